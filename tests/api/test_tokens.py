"""A token's life: made on the account page after re-authentication, shown once, stored as a
hash, listed, revoked; dead when expired, revoked or its user disabled; rate-limited; audited."""

from __future__ import annotations

import datetime as dt
import string

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.accounts import tokens
from intake.accounts.models import Organisation, User
from intake.accounts.token_models import ApiToken
from intake.db import utcnow
from intake.security.models import UserSession
from intake.security.sessions import hash_token
from tests.api.conftest import audit_rows, bearer, make_token
from tests.conftest import login, make_user, page_token


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def _tokens_of(db: Session, user: User) -> list[ApiToken]:
    db.expire_all()
    return list(db.execute(select(ApiToken).where(ApiToken.user_id == user.id)).scalars())


def _make_on_page(client: TestClient, **fields: object) -> object:
    data = {"csrf_token": page_token(client, "/account/tokens"), **fields}
    return client.post("/account/tokens", data=data)


def test_a_token_is_made_on_the_account_page_and_shown_once(
    client: TestClient, db: Session, worker: User
) -> None:
    login(client, worker.username)
    page = _soup(client.get("/account/tokens").text)
    offered = {box["value"] for box in page.select("#new-token-form input[name=scopes]")}
    assert offered == {"submissions:write", "cases:read"}
    made = _make_on_page(client, name="Register sync", scopes=["cases:read"], days="30")
    assert getattr(made, "status_code", None) == 201
    secret = _soup(getattr(made, "text", "")).select_one("#token-secret").get_text()
    assert secret.startswith("itk_") and len(secret) > 40
    [row] = _tokens_of(db, worker)
    assert row.token_hash == hash_token(secret) and secret not in (row.token_hash, row.name)
    assert row.scopes == "cases:read" and row.name == "Register sync"
    assert dt.timedelta(days=29) < row.expires_at - utcnow() <= dt.timedelta(days=30)
    listed = client.get("/account/tokens")
    assert secret not in listed.text  # never shown again
    assert "Register sync" in _soup(listed.text).select_one("#token-list").get_text()
    assert client.get("/api/v1/definitions", headers=bearer(secret)).status_code == 200
    assert [r.object_id for r in audit_rows(db, "api_token.created")] == [row.id]


def test_making_a_token_needs_a_recent_password(
    client: TestClient, db: Session, worker: User
) -> None:
    login(client, worker.username)
    token = page_token(client, "/account/tokens")
    long_ago = utcnow() - dt.timedelta(hours=2)
    db.execute(
        update(UserSession)
        .where(UserSession.user_id == worker.id)
        .values(created_at=long_ago, last_seen_at=utcnow())
    )
    db.commit()
    response = client.post(
        "/account/tokens",
        data={"csrf_token": token, "name": "x", "scopes": ["cases:read"], "days": "7"},
        headers={"Referer": "http://testserver/account/tokens"},
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/reauth")
    assert _tokens_of(db, worker) == []


def test_an_administrator_gets_no_scope_at_all(
    client: TestClient, db: Session, admin: User
) -> None:
    login(client, admin.username)
    page = _soup(client.get("/account/tokens").text)
    assert page.select_one("#no-api-access") is not None
    assert page.select("#new-token-form") == []
    refused = _make_on_page(client, name="x", scopes=["cases:read"], days="30")
    assert getattr(refused, "status_code", None) == 422
    assert _tokens_of(db, admin) == []


def test_bad_requests_for_a_token_are_refused_with_a_message(
    client: TestClient, db: Session, worker: User
) -> None:
    login(client, worker.username)
    for fields in (
        {"name": "", "scopes": ["cases:read"], "days": "30"},
        {"name": "   \x00\x1b ", "scopes": ["cases:read"], "days": "30"},
        {"name": "x" * 81, "scopes": ["cases:read"], "days": "30"},
        {"name": "ok", "scopes": [], "days": "30"},
        {"name": "ok", "scopes": ["statistics:everything"], "days": "30"},
        {"name": "ok", "scopes": ["cases:read"], "days": "10000"},
        {"name": "ok", "scopes": ["cases:read"], "days": "-1"},
    ):
        response = _make_on_page(client, **fields)
        assert getattr(response, "status_code", None) == 422, fields
        errors = _soup(getattr(response, "text", "")).select_one("#form-errors")
        assert errors is not None and errors.get_text(strip=True), fields
    assert _tokens_of(db, worker) == []


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.text(max_size=120),
    scopes=st.lists(st.sampled_from([*tokens.SCOPES, "statistics:read", "x", ""]), max_size=4),
    days=st.integers(-(10**6), 10**6),
)
def test_any_request_makes_a_token_within_the_role_or_nothing(
    db: Session, supervisor: User, name: str, scopes: list[str], days: int
) -> None:
    before = len(_tokens_of(db, supervisor))
    try:
        issued = tokens.create_token(db=db, user=supervisor, name=name, scopes=scopes, days=days)
    except tokens.TokenError as refused:
        assert str(refused)
        assert len(_tokens_of(db, supervisor)) == before
        return
    assert set(issued.token.scopes.split()) <= set(tokens.scopes_for(supervisor))
    assert days in tokens.LIFETIMES_DAYS and 0 < len(issued.token.name) <= 80
    assert not any(c in issued.token.name for c in string.whitespace[1:])


def test_revoked_expired_and_disabled_tokens_are_dead(
    client: TestClient, db: Session, worker: User, org: Organisation
) -> None:
    revoked, expired, disabled = (make_token(db, worker) for _ in range(3))
    login(client, worker.username)
    revoked_row = next(t for t in _tokens_of(db, worker) if t.token_hash == hash_token(revoked))
    response = client.post(
        f"/account/tokens/{revoked_row.id}/revoke",
        data={"csrf_token": page_token(client, "/account/tokens")},
    )
    assert response.status_code == 303
    db.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == hash_token(expired))
        .values(expires_at=utcnow() - dt.timedelta(seconds=1))
    )
    db.commit()
    codes = {}
    for secret in (revoked, expired):
        answer = client.get("/api/v1/definitions", headers=bearer(secret))
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")
        codes[secret] = answer.json()["error"]["code"]
    assert codes == {revoked: "token_revoked", expired: "token_expired"}
    page = _soup(client.get("/account/tokens").text).select_one("#token-list").get_text()
    assert "Revoked" in page and "Expired" in page
    assert client.get("/api/v1/definitions", headers=bearer(disabled)).status_code == 200
    worker.active = False
    db.commit()
    dead = client.get("/api/v1/definitions", headers=bearer(disabled))
    assert dead.status_code == 401 and dead.json()["error"]["code"] == "token_disabled"
    worker.active, worker.must_change_password = True, True  # reset by an administrator
    db.commit()
    assert client.get("/api/v1/definitions", headers=bearer(disabled)).status_code == 401


def test_only_ones_own_token_can_be_revoked(
    client: TestClient, db: Session, worker: User, supervisor: User
) -> None:
    theirs = make_token(db, supervisor)
    row = _tokens_of(db, supervisor)[0]
    login(client, worker.username)
    response = client.post(
        f"/account/tokens/{row.id}/revoke",
        data={"csrf_token": page_token(client, "/account/tokens")},
    )
    assert response.status_code == 404
    assert client.get("/api/v1/definitions", headers=bearer(theirs)).status_code == 200


def test_unknown_tokens_are_counted_and_then_blocked_per_address(
    client: TestClient, db: Session, worker: User, app: object
) -> None:
    limit = client.app.state.settings.login_client_max_failures  # type: ignore[attr-defined]
    for attempt in range(limit):
        wrong = client.get("/api/v1/definitions", headers=bearer(f"itk_guess{attempt}"))
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "token_unknown"
    blocked = client.get("/api/v1/definitions", headers=bearer("itk_one-more"))
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    refused = [r for r in audit_rows(db, "api.request") if r.outcome == "refused"]
    assert len(refused) == limit + 1 and all(r.actor_id is None for r in refused)
    assert all("guess" not in r.detail and "itk_" not in r.detail for r in refused)
    # A real token from the same address still works: guessing is what is blocked.
    assert (
        client.get("/api/v1/definitions", headers=bearer(make_token(db, worker))).status_code == 200
    )


def test_a_token_is_rate_limited_per_minute(
    client: TestClient, db: Session, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "REQUESTS_PER_MINUTE", 3)
    headers = bearer(make_token(db, worker))
    answers = [client.get("/api/v1/definitions", headers=headers) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].headers["retry-after"] == "60"
    assert answers[-1].json()["error"]["code"] == "rate_limited"
    db.execute(update(ApiToken).values(window_start=utcnow() - dt.timedelta(minutes=1, seconds=1)))
    db.commit()
    assert client.get("/api/v1/definitions", headers=headers).status_code == 200


def test_every_use_is_audited_by_token_and_route_without_personal_data(
    client: TestClient, db: Session, worker: User
) -> None:
    secret = make_token(db, worker, scopes=["submissions:write"])
    row = _tokens_of(db, worker)[0]
    client.get("/api/v1/definitions", headers=bearer(secret))
    client.get("/api/v1/cases/" + "0" * 32, headers=bearer(secret))
    rows = audit_rows(db, "api.request")
    assert [(r.actor_id, r.object_id, r.outcome) for r in rows] == [
        (worker.id, row.id, "ok"),
        (worker.id, row.id, "refused"),
    ]
    assert rows[0].detail == "GET /api/v1/definitions"
    assert rows[1].detail == "GET /api/v1/cases/{case_id} (scope)"
    db.expire_all()
    assert db.get(ApiToken, row.id).last_used_at is not None  # type: ignore[union-attr]


def test_a_token_of_another_users_name_is_not_found_by_its_hash_alone(
    client: TestClient, db: Session, worker: User, other_org: Organisation
) -> None:
    stranger = make_user(db, other_org, "outreach_worker", "stranger")
    make_token(db, stranger)
    stored = _tokens_of(db, stranger)[0].token_hash
    # A leaked database row is no token: the hash itself does not authenticate.
    answer = client.get("/api/v1/definitions", headers=bearer(stored))
    assert answer.status_code == 401
