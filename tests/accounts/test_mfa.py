"""The second factor as a person (or an attacker) meets it: enrolment at sign-in, codes,
replays, recovery codes, throttling, who must have one, resets and re-authentication."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit.models import AuditEvent
from intake.config import Settings
from intake.db import utcnow
from intake.security import totp
from intake.security.models import UserSession
from tests.conftest import PASSWORD, csrf_from, login, make_settings, make_user, page_token


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # Every test here runs with the second factor enforced, as production does.
    return make_settings(tmp_path / "var", database_url, mfa_enforced=True)


def browser(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def code_now(secret: str, ahead: int = 0) -> str:
    """The code an authenticator app shows (`ahead` steps later: the next code)."""
    return totp.code_at(secret, totp.step_at(utcnow()) + ahead)


def send_code(client: TestClient, code: str) -> object:
    page = client.get("/login/code")
    assert page.status_code == 200
    return client.post("/login/code", data={"code": code, "csrf_token": csrf_from(page.text)})


def enrol_at_sign_in(client: TestClient, username: str) -> tuple[str, list[str]]:
    """Password, then the enrolment step: returns the secret shown and the recovery codes."""
    assert getattr(login(client, username), "headers", {})["location"] == "/login/code"
    page = BeautifulSoup(client.get("/login/code").text, "html.parser")
    shown = page.select_one("#totp-secret")
    assert shown is not None and page.select_one("figure.qr svg") is not None
    secret = shown.get_text()
    done = send_code(client, code_now(secret))
    assert getattr(done, "status_code", None) == 200
    codes = [c.get_text() for c in BeautifulSoup(done.text, "html.parser").select(".codes code")]
    return secret, codes


def signed_in(client: TestClient) -> bool:
    return client.get("/").status_code == 200


def sign_out(client: TestClient) -> None:
    client.post("/logout", data={"csrf_token": page_token(client)})


def test_a_supervisor_enrols_at_first_sign_in_and_then_signs_in_with_a_code(
    app: FastAPI, supervisor: User, db: Session
) -> None:
    client = browser(app)
    secret, codes = enrol_at_sign_in(client, supervisor.username)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert signed_in(client)
    # The secret rests sealed: the database never holds it in the clear.
    stored = db.execute(
        text("SELECT totp_secret FROM users WHERE id = :id"), {"id": supervisor.id}
    ).scalar_one()
    assert secret not in stored and stored.startswith("v1:")
    sign_out(client)

    again = browser(app)
    assert getattr(login(again, supervisor.username), "headers", {})["location"] == "/login/code"
    page = again.get("/login/code").text
    assert secret not in page  # shown once, at enrolment only
    assert getattr(send_code(again, code_now(secret, ahead=1)), "status_code", None) == 303
    assert signed_in(again)


def test_half_signed_in_grants_nothing_but_the_code_step(app: FastAPI, supervisor: User) -> None:
    client = browser(app)
    login(client, supervisor.username)
    for path in ("/", "/cases", "/account/mfa", "/organisation/accounts"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/login", path
    wrong = send_code(client, "000000")
    assert getattr(wrong, "status_code", None) == 401
    assert not signed_in(client)


def test_a_code_is_never_accepted_twice(app: FastAPI, supervisor: User) -> None:
    first = browser(app)
    secret, _codes = enrol_at_sign_in(first, supervisor.username)
    used = code_now(secret, ahead=1)
    second = browser(app)
    login(second, supervisor.username)
    assert getattr(send_code(second, used), "status_code", None) == 303
    third = browser(app)
    login(third, supervisor.username)
    assert getattr(send_code(third, used), "status_code", None) == 401
    assert not signed_in(third)
    # Nor any older code once a newer one was used.
    assert getattr(send_code(third, code_now(secret)), "status_code", None) == 401


def test_recovery_codes_work_once_each(app: FastAPI, supervisor: User) -> None:
    _secret, codes = enrol_at_sign_in(browser(app), supervisor.username)
    client = browser(app)
    login(client, supervisor.username)
    assert getattr(send_code(client, codes[0].upper()), "status_code", None) == 303
    assert signed_in(client)
    reused = browser(app)
    login(reused, supervisor.username)
    assert getattr(send_code(reused, codes[0]), "status_code", None) == 401
    assert getattr(send_code(reused, codes[1]), "status_code", None) == 303
    assert "Recovery codes left: 8" in reused.get("/account/mfa").text


def test_wrong_codes_are_throttled_like_passwords(app: FastAPI, supervisor: User) -> None:
    _secret, _codes = enrol_at_sign_in(browser(app), supervisor.username)
    client = browser(app)
    login(client, supervisor.username)
    answers = [getattr(send_code(client, "123456"), "status_code", None) for _ in range(4)]
    assert answers == [401] * 4
    page = client.get("/login/code")
    last = client.post("/login/code", data={"code": "123456", "csrf_token": csrf_from(page.text)})
    assert last.status_code == 401 and 'action="/login"' in last.text
    # The challenge is over: the password is asked again, and the account is now locked
    # (five wrong codes count as five wrong passwords), so even everything right fails.
    assert client.get("/login/code").headers["location"] == "/login"
    fresh = browser(app)
    assert getattr(login(fresh, supervisor.username), "status_code", None) == 401


def test_who_must_have_a_second_factor(
    app: FastAPI, db: Session, org: Organisation, worker: User, admin: User
) -> None:
    installer = make_user(db, org, "installation_admin", "installer")
    for person in (admin, installer):
        response = login(browser(app), person.username)
        assert getattr(response, "headers", {})["location"] == "/login/code", person.role
    # Optional for outreach workers, unless their organisation asks for it.
    assert getattr(login(browser(app), worker.username), "headers", {})["location"] == "/"
    db.execute(update(Organisation).where(Organisation.id == org.id).values(mfa_for_workers=True))
    db.commit()
    assert getattr(login(browser(app), worker.username), "headers", {})["location"] == (
        "/login/code"
    )


def test_a_worker_may_enrol_and_is_then_always_asked(
    app: FastAPI, worker: User, tmp_path: Path, database_url: str
) -> None:
    client = browser(app)
    login(client, worker.username)
    client.post("/account/mfa/start", data={"csrf_token": page_token(client, "/account/mfa")})
    page = BeautifulSoup(client.get("/account/mfa").text, "html.parser")
    shown = page.select_one("#totp-secret")
    assert shown is not None
    secret = shown.get_text()
    token = page_token(client, "/account/mfa")
    refused = client.post("/account/mfa/confirm", data={"code": "000000", "csrf_token": token})
    assert refused.status_code == 422
    done = client.post("/account/mfa/confirm", data={"code": code_now(secret), "csrf_token": token})
    assert (
        done.status_code == 200
        and len(BeautifulSoup(done.text, "html.parser").select(".codes code")) == 10
    )
    response = login(browser(app), worker.username)
    assert getattr(response, "headers", {})["location"] == "/login/code"


def test_production_refuses_to_switch_the_second_factor_off(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="MFA"):
        make_settings(tmp_path, "sqlite://", mode="production", mfa_enforced=False)


def _age_session(db: Session, user: User, minutes: int) -> None:
    old = utcnow() - dt.timedelta(minutes=minutes)
    db.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(created_at=old, last_seen_at=utcnow())
    )
    db.execute(text("DELETE FROM reauthentications"))
    db.commit()


def test_an_administrator_resets_a_lost_device_after_re_authenticating(
    app: FastAPI, db: Session, admin: User, supervisor: User
) -> None:
    _secret, _codes = enrol_at_sign_in(browser(app), supervisor.username)
    victim = browser(app)  # the supervisor's other browser, still signed in
    login(victim, supervisor.username)
    send_code(victim, _codes[0])
    assert signed_in(victim)

    desk = browser(app)
    admin_secret, _admin_codes = enrol_at_sign_in(desk, admin.username)
    _age_session(db, admin, minutes=6)
    path = f"/admin/users/{supervisor.id}/reset-mfa"
    token = page_token(desk, "/admin/mfa")
    asked = desk.post(
        path, data={"csrf_token": token}, headers={"referer": "http://testserver/admin/mfa"}
    )
    assert asked.status_code == 303 and asked.headers["location"].startswith("/account/reauth")
    assert asked.headers["location"].endswith("next=%2Fadmin%2Fmfa")
    form = csrf_from(desk.get(asked.headers["location"]).text)
    wrong = desk.post(
        "/account/reauth", data={"secret": "nope", "next": "/admin/mfa", "csrf_token": form}
    )
    assert wrong.status_code == 401
    right = desk.post(
        "/account/reauth",
        data={
            "secret": code_now(admin_secret, ahead=1),
            "next": "//evil.example/",
            "csrf_token": form,
        },
    )
    assert right.status_code == 303 and right.headers["location"] == "/"
    done = desk.post(path, data={"csrf_token": page_token(desk, "/admin/mfa")})
    assert done.status_code == 200
    # The supervisor's sessions are over, and the next sign-in enrols afresh.
    assert not signed_in(victim)
    enrol_at_sign_in(browser(app), supervisor.username)
    reset = db.execute(select(AuditEvent).where(AuditEvent.action == "user.mfa_reset")).scalar_one()
    assert reset.actor_id == admin.id and reset.object_id == supervisor.id


def test_re_authentication_expires(app: FastAPI, db: Session, worker: User) -> None:
    client = browser(app)
    login(client, worker.username)
    client.post("/account/mfa/start", data={"csrf_token": page_token(client, "/account/mfa")})
    secret = BeautifulSoup(client.get("/account/mfa").text, "html.parser").select_one(
        "#totp-secret"
    )
    assert secret is not None
    token = page_token(client, "/account/mfa")
    client.post(
        "/account/mfa/confirm", data={"code": code_now(secret.get_text()), "csrf_token": token}
    )
    # Fresh from signing in: no question asked.
    fresh = client.post("/account/mfa/recovery-codes", data={"csrf_token": token})
    assert fresh.status_code == 200
    _age_session(db, worker, minutes=6)
    stale = client.post("/account/mfa/remove", data={"csrf_token": token})
    assert stale.status_code == 303 and stale.headers["location"].startswith("/account/reauth")
    form = csrf_from(client.get(stale.headers["location"]).text)
    client.post(
        "/account/reauth", data={"secret": PASSWORD, "next": "/account/mfa", "csrf_token": form}
    )
    assert client.post("/account/mfa/remove", data={"csrf_token": token}).status_code == 200
    assert getattr(login(browser(app), worker.username), "headers", {})["location"] == "/"


def test_an_administrator_cannot_reset_another_organisations_user(
    app: FastAPI, db: Session, admin: User, other_org: Organisation
) -> None:
    outsider = make_user(db, other_org, "supervisor", "sup-b")
    desk = browser(app)
    enrol_at_sign_in(desk, admin.username)
    response = desk.post(
        f"/admin/users/{outsider.id}/reset-mfa", data={"csrf_token": page_token(desk, "/admin/mfa")}
    )
    assert response.status_code == 404
