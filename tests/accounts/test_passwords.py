"""The password policy (ASVS 5: length, common passwords, no composition rules)."""

from __future__ import annotations

import pytest

from intake.security import passwords


@pytest.mark.parametrize(
    "password",
    ["short pass", "qwerty123456", "passwordpassword", "aaaaaaaaaaaaaaaa", "x" * 129],
)
def test_refused(password: str) -> None:
    assert passwords.policy_problems(password)


@pytest.mark.parametrize(
    "password",
    ["correct horse battery staple", "lowercase only words", "ąžuolas ir beržas", "a1b2c" * 25],
)
def test_accepted_without_composition_rules(password: str) -> None:
    assert passwords.policy_problems(password) == []


def test_username_inside_password_is_refused() -> None:
    assert passwords.policy_problems("my name is ruta.k forever", username="ruta.k")


def test_hash_is_argon2id_at_or_above_owasp_floor() -> None:
    stored = passwords.hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    params = dict(p.split("=") for p in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2 and int(params["p"]) >= 1


def test_verify() -> None:
    stored = passwords.hash_password("correct horse battery staple")
    assert passwords.verify_password(stored, "correct horse battery staple")
    assert not passwords.verify_password(stored, "correct horse battery stapl")
    assert not passwords.verify_password(None, "anything at all here")
    assert not passwords.verify_password("not a hash", "anything at all here")


def test_common_list_is_shipped_and_long() -> None:
    common = passwords.common_passwords()
    assert len(common) > 200
    assert all(len(p) >= passwords.MIN_LENGTH for p in common)
