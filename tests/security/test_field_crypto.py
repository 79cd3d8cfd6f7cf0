"""Sensitive answers: what someone holding the database but not the keys can do."""

from __future__ import annotations

import base64

import pytest

from intake.security.field_crypto import (
    FieldCryptoError,
    Keyring,
    decrypt_value,
    encrypt_value,
    generate_key,
)

OLD_KEY = base64.b64encode(bytes(range(32))).decode()
NEW_KEY = base64.b64encode(bytes(range(32, 64))).decode()


def keyring(setting: str = f"k2:{NEW_KEY},k1:{OLD_KEY}") -> Keyring:
    return Keyring.from_config(setting)


def test_round_trip_keeps_any_text_and_never_shows_it() -> None:
    ring = keyring()
    for value in ("Ona Petraitytė", "Анна", "", "x" * 10_000):
        token = encrypt_value(keyring=ring, value=value, context="submission:1:given_name")
        assert token.startswith("v1:k2:")
        if value:
            assert value not in token
        assert decrypt_value(keyring=ring, token=token, context="submission:1:given_name") == value


def test_same_value_encrypts_differently_each_time() -> None:
    ring = keyring()
    first = encrypt_value(keyring=ring, value="Ana", context="c")
    assert first != encrypt_value(keyring=ring, value="Ana", context="c")


@pytest.mark.parametrize("context", ["submission:2:given_name", "submission:1:family_name", ""])
def test_a_token_moved_to_another_row_or_field_does_not_decrypt(context: str) -> None:
    ring = keyring()
    token = encrypt_value(keyring=ring, value="Ana", context="submission:1:given_name")
    with pytest.raises(FieldCryptoError, match="does not belong here"):
        decrypt_value(keyring=ring, token=token, context=context)


def test_tampered_tokens_are_refused() -> None:
    ring = keyring()
    token = encrypt_value(keyring=ring, value="Ana", context="c")
    prefix, payload = token.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for index in (0, 12, len(raw) - 1):  # nonce, ciphertext, tag
        altered = bytearray(raw)
        altered[index] ^= 1
        forged = prefix + ":" + base64.urlsafe_b64encode(bytes(altered)).decode().rstrip("=")
        with pytest.raises(FieldCryptoError):
            decrypt_value(keyring=ring, token=forged, context="c")
    for broken in ("", "Ana", "v2:k2:" + payload, "v1:k2:", "v1:k2:!!!", "v1:k2:AAAA", token[:-4]):
        with pytest.raises(FieldCryptoError):
            decrypt_value(keyring=ring, token=broken, context="c")


def test_rotation_old_tokens_still_decrypt_and_new_ones_use_the_new_key() -> None:
    before = Keyring.from_config(f"k1:{OLD_KEY}")
    old_token = encrypt_value(keyring=before, value="Ana", context="c")
    after = keyring()
    assert decrypt_value(keyring=after, token=old_token, context="c") == "Ana"
    assert encrypt_value(keyring=after, value="Ana", context="c").startswith("v1:k2:")
    # Once the old key is removed, its tokens no longer open.
    with pytest.raises(FieldCryptoError, match="no key 'k1'"):
        decrypt_value(keyring=Keyring.from_config(f"k2:{NEW_KEY}"), token=old_token, context="c")


def test_a_different_key_under_the_same_id_does_not_decrypt() -> None:
    token = encrypt_value(keyring=Keyring.from_config(f"k1:{OLD_KEY}"), value="Ana", context="c")
    with pytest.raises(FieldCryptoError):
        decrypt_value(keyring=Keyring.from_config(f"k1:{NEW_KEY}"), token=token, context="c")


def test_from_config_accepts_standard_and_url_safe_base64_and_spaces() -> None:
    url_safe = base64.urlsafe_b64encode(b"\xfb" * 32).decode().rstrip("=")
    ring = Keyring.from_config(f" a:{url_safe} , b:{generate_key()} ")
    assert ring.active == "a"
    assert ring.keys["a"] == b"\xfb" * 32
    assert set(ring.keys) == {"a", "b"}


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("", "holds no key"),
        ("k1", "<key id>:<base64 key>"),
        (f"k1:{OLD_KEY},k1:{NEW_KEY}", "listed twice"),
        ("k1:" + base64.b64encode(b"short").decode(), "must be 32 bytes"),
        ("k1:not*base64", "not valid base64"),
        (f"bad id:{OLD_KEY}", "key id"),
    ],
)
def test_from_config_refuses_bad_settings(setting: str, words: str) -> None:
    with pytest.raises(FieldCryptoError, match=words):
        Keyring.from_config(setting)


def test_keys_never_appear_in_repr() -> None:
    ring = keyring()
    assert OLD_KEY not in repr(ring) and NEW_KEY not in repr(ring)
    assert "k1" in repr(ring)
