"""Sign-in, sessions and throttling, as a person or an attacker sees them."""

from __future__ import annotations

import datetime as dt

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.audit.models import AuditEvent
from intake.security import passwords
from intake.security.models import UserSession
from intake.security.sessions import hash_token
from tests.conftest import PASSWORD, csrf_from, login

COOKIE = "intake_session"
GENERIC = "Sign-in failed"


def test_login_page_is_a_form_in_the_readers_language(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "lt-LT,lt;q=0.9,en;q=0.5"})
    soup = BeautifulSoup(page.text, "html.parser")
    assert page.status_code == 200
    assert soup.html["lang"] == "lt"
    assert soup.find("input", {"name": "username"}) is not None
    assert soup.find("input", {"name": "password", "type": "password"}) is not None


def test_sign_in_sets_a_new_random_session_token(client: TestClient, worker: User) -> None:
    client.cookies.set(COOKIE, "attacker-chosen-token")
    response = login(client, worker.username)
    assert response.status_code == 303
    token = response.cookies.get(COOKIE)
    assert token and token != "attacker-chosen-token"
    assert len(token) >= 43  # 32 random bytes, base64url
    second = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    again = login(second, worker.username)
    assert again.cookies.get(COOKIE) != token


def test_only_the_hash_of_the_token_is_stored(
    client: TestClient, db: Session, worker: User
) -> None:
    token = login(client, worker.username).cookies.get(COOKIE)
    stored = db.execute(select(UserSession.token_hash)).scalars().all()
    assert token not in stored
    assert hash_token(token) in stored


def test_set_cookie_flags(client: TestClient, worker: User) -> None:
    response = login(client, worker.username)
    header = response.headers["set-cookie"].lower()
    assert "httponly" in header
    assert "samesite=lax" in header


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient, worker: User) -> None:
    wrong = login(client, worker.username, "not the password at all")
    unknown = login(client, "nobody-here", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert GENERIC in wrong.text and GENERIC in unknown.text
    assert COOKIE not in wrong.cookies and COOKIE not in unknown.cookies


def test_logged_out_cookie_replayed_is_refused(client: TestClient, worker: User) -> None:
    token = login(client, worker.username).cookies.get(COOKIE)
    assert client.get("/").status_code == 200
    csrf = csrf_from(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    replay = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    replay.cookies.set(COOKIE, token)
    response = replay.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


def test_disabled_user_is_out_at_once(
    client: TestClient, db: Session, worker: User, admin: User
) -> None:
    login(client, worker.username)
    assert client.get("/").status_code == 200
    from intake.accounts import service

    service.set_active(db=db, actor=admin, user=worker, active=False)
    assert client.get("/").status_code == 303
    assert login(client, worker.username).status_code == 401


def test_revoked_sessions_are_out_at_once(
    client: TestClient, db: Session, worker: User, admin: User
) -> None:
    login(client, worker.username)
    phone = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    login(phone, worker.username)
    from intake.accounts import service

    assert service.revoke_sessions(db=db, actor=admin, user=worker) == 2
    assert client.get("/").status_code == 303
    assert phone.get("/").status_code == 303


def _session_row(db: Session, token: str) -> UserSession:
    db.expire_all()
    return db.execute(
        select(UserSession).where(UserSession.token_hash == hash_token(token))
    ).scalar_one()


def test_idle_timeout(client: TestClient, db: Session, worker: User) -> None:
    token = login(client, worker.username).cookies.get(COOKIE)
    row = _session_row(db, token)
    row.last_seen_at = row.last_seen_at - dt.timedelta(minutes=29)
    db.commit()
    assert client.get("/").status_code == 200
    row = _session_row(db, token)
    row.last_seen_at = row.last_seen_at - dt.timedelta(minutes=31)
    db.commit()
    assert client.get("/").status_code == 303
    db.expire_all()
    assert db.execute(select(func.count()).select_from(UserSession)).scalar_one() == 0


def test_absolute_timeout_even_when_active(client: TestClient, db: Session, worker: User) -> None:
    token = login(client, worker.username).cookies.get(COOKIE)
    row = _session_row(db, token)
    row.created_at = row.created_at - dt.timedelta(hours=13)
    row.expires_at = row.created_at + dt.timedelta(hours=12)
    db.commit()
    assert client.get("/").status_code == 303


def test_account_locks_after_repeated_failures(
    client: TestClient, db: Session, worker: User
) -> None:
    for _ in range(5):
        assert login(client, worker.username, "wrong password here").status_code == 401
    # Locked now: even the right password is refused, with the same message.
    locked = login(client, worker.username, PASSWORD)
    assert locked.status_code == 401
    assert GENERIC in locked.text
    db.expire_all()
    user = db.get(User, worker.id)
    assert user is not None and user.locked_until is not None
    user.locked_until = user.locked_until - dt.timedelta(hours=2)
    db.commit()
    assert login(client, worker.username, PASSWORD).status_code == 303


def test_lock_grows_with_further_failures(client: TestClient, db: Session, worker: User) -> None:
    for _ in range(5):
        login(client, worker.username, "wrong password here")
    db.expire_all()
    first = db.get(User, worker.id).locked_until
    user = db.get(User, worker.id)
    user.locked_until = None
    db.commit()
    login(client, worker.username, "wrong password here")
    db.expire_all()
    second = db.get(User, worker.id).locked_until
    assert first is not None and second is not None
    assert second - dt.datetime.now(dt.UTC) > dt.timedelta(minutes=1, seconds=30)


def test_client_address_is_throttled(client: TestClient, app, worker: User) -> None:
    app.state.settings.login_client_max_failures = 3
    for n in range(3):
        login(client, f"someone{n}", "wrong password here")
    # The next sign-in from this address is refused even with the right password.
    assert login(client, worker.username, PASSWORD).status_code == 401


def test_failures_and_sign_ins_are_audited_without_names(
    client: TestClient, db: Session, worker: User
) -> None:
    login(client, "no-such-person", "wrong password here")
    login(client, worker.username)
    rows = db.execute(select(AuditEvent).where(AuditEvent.action == "auth.sign_in")).scalars().all()
    assert [r.outcome for r in rows][-2:] == ["refused", "ok"]
    for row in rows:
        assert "no-such-person" not in (row.detail + row.object_id)
        assert worker.username not in (row.detail + row.object_id)


def test_password_is_rehashed_when_parameters_change(
    client: TestClient, db: Session, worker: User
) -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
    worker.password_hash = weak.hash(PASSWORD)
    db.commit()
    assert passwords.needs_rehash(worker.password_hash)
    assert login(client, worker.username).status_code == 303
    db.expire_all()
    stored = db.get(User, worker.id).password_hash
    assert not passwords.needs_rehash(stored)
    assert "m=65536,t=3,p=1" in stored
