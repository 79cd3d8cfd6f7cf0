"""CSRF: every state change needs the session's token and a same-site origin."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from tests.conftest import csrf_from, login, page_token


def _user_count(db: Session) -> int:
    db.expire_all()
    return int(db.execute(select(func.count()).select_from(User)).scalar_one())


def _create(client: TestClient, token: str | None, **headers: str):
    data = {
        "username": "newperson",
        "display_name": "N",
        "role": "supervisor",
        "organisation": "Org A",
    }
    if token is not None:
        data["csrf_token"] = token
    return client.post("/admin/users", data=data, headers=headers)


def test_with_the_right_token_the_change_happens(
    client: TestClient, db: Session, admin: User
) -> None:
    login(client, admin.username)
    before = _user_count(db)
    response = _create(client, page_token(client, "/admin/users"))
    assert response.status_code == 200
    assert _user_count(db) == before + 1


def test_no_token_is_refused_and_changes_nothing(
    client: TestClient, db: Session, admin: User
) -> None:
    login(client, admin.username)
    before = _user_count(db)
    response = _create(client, None)
    assert response.status_code == 403
    assert "expired or did not come from this site" in response.text
    assert _user_count(db) == before


def test_wrong_token_is_refused(client: TestClient, db: Session, admin: User) -> None:
    login(client, admin.username)
    before = _user_count(db)
    assert _create(client, "0" * 64).status_code == 403
    assert _create(client, page_token(client, "/admin/users")[:-2] + "00").status_code == 403
    assert _user_count(db) == before


def test_token_from_before_sign_in_does_not_authorise(
    client: TestClient, db: Session, admin: User
) -> None:
    pre_token = page_token(client, "/login")
    login(client, admin.username)
    before = _user_count(db)
    assert _create(client, pre_token).status_code == 403
    assert _user_count(db) == before


def test_token_of_another_session_is_refused(client: TestClient, db: Session, admin: User) -> None:
    other = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    login(other, admin.username)
    foreign_token = page_token(other, "/admin/users")
    login(client, admin.username)
    before = _user_count(db)
    assert _create(client, foreign_token).status_code == 403
    assert _user_count(db) == before


def test_cross_site_origin_is_refused_even_with_token(
    client: TestClient, db: Session, admin: User
) -> None:
    login(client, admin.username)
    token = page_token(client, "/admin/users")
    before = _user_count(db)
    assert _create(client, token, Origin="https://evil.example").status_code == 403
    assert _create(client, token, **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert (
        _create(client, token, Origin="null", **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    )
    assert _user_count(db) == before
    assert (
        _create(
            client, token, Origin="http://testserver", **{"Sec-Fetch-Site": "same-origin"}
        ).status_code
        == 200
    )


def test_htmx_header_token_is_accepted(client: TestClient, db: Session, admin: User) -> None:
    login(client, admin.username)
    token = page_token(client, "/admin/users")
    response = client.post(
        "/admin/users",
        data={"username": "viaheader", "role": "supervisor", "organisation": "Org A"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text  # only the block is swapped


def test_login_form_needs_its_token(client: TestClient, admin: User) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"username": admin.username, "password": "whatever it is"}
    )
    assert response.status_code == 403
    assert "intake_session" not in response.cookies


def test_logout_needs_a_token(client: TestClient, admin: User) -> None:
    login(client, admin.username)
    assert client.post("/logout").status_code == 403
    assert client.get("/").status_code == 200  # still signed in


def test_the_token_is_masked_afresh_in_every_response(client: TestClient) -> None:
    first = csrf_from(client.get("/login").text)
    second = csrf_from(client.get("/login").text)
    assert first != second  # same cookie, same secret: only the mask differs
    for token in (first, second):
        response = client.post("/language", data={"locale": "en", "csrf_token": token})
        assert response.status_code == 303


def test_a_masked_token_altered_anywhere_is_refused(client: TestClient) -> None:
    token = csrf_from(client.get("/login").text)
    for position in (0, 40, len(token) - 2):
        swapped = "A" if token[position] != "A" else "B"
        altered = token[:position] + swapped + token[position + 1 :]
        response = client.post("/language", data={"locale": "en", "csrf_token": altered})
        assert response.status_code == 403
