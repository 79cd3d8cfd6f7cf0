"""Bad input gets a clear page with the right status, changes nothing, and is never a 500."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from tests.conftest import csrf_from, login, page_token


def test_oversized_body_is_refused_before_it_is_read(client: TestClient, admin: User) -> None:
    login(client, admin.username)
    token = page_token(client, "/admin/users")
    response = client.post("/admin/users", data={"csrf_token": token, "username": "x" * 2_000_000})
    assert response.status_code == 413
    assert "too large" in response.text


def test_oversized_body_message_in_the_readers_language(client: TestClient) -> None:
    response = client.post("/login", content=b"a" * 2_000_000, headers={"Accept-Language": "ru"})
    assert response.status_code == 413
    assert "слишком" in response.text


def test_malformed_multipart_is_a_400(client: TestClient) -> None:
    client.get("/login")
    response = client.post(
        "/login",
        content=b"--broken\r\nnot really multipart",
        headers={"Content-Type": "multipart/form-data; boundary=zzz"},
    )
    assert response.status_code in (400, 403)
    assert response.status_code != 500


def test_too_long_field_is_a_clear_422(client: TestClient, db: Session, admin: User) -> None:
    login(client, admin.username)
    token = page_token(client, "/admin/users")
    before = db.execute(select(func.count()).select_from(User)).scalar_one()
    response = client.post(
        "/admin/users",
        data={"csrf_token": token, "username": "u" * 65, "role": "admin", "organisation": "O"},
    )
    assert response.status_code == 422
    assert "not valid" in response.text
    db.expire_all()
    assert db.execute(select(func.count()).select_from(User)).scalar_one() == before


def test_unknown_role_and_bad_username_are_explained(client: TestClient, admin: User) -> None:
    login(client, admin.username)
    token = page_token(client, "/admin/users")
    bad_role = client.post(
        "/admin/users",
        data={"csrf_token": token, "username": "abc", "role": "root", "organisation": "O"},
    )
    assert bad_role.status_code == 422 and "Choose a role" in bad_role.text
    bad_name = client.post(
        "/admin/users",
        data={"csrf_token": token, "username": "a b<script>", "role": "admin", "organisation": "O"},
    )
    assert bad_name.status_code == 422 and "A username has" in bad_name.text
    assert "<script>" not in bad_name.text


def test_unknown_language_is_refused(client: TestClient) -> None:
    token = csrf_from(client.get("/login").text)
    assert client.post("/language", data={"csrf_token": token, "locale": "xx"}).status_code == 400


def test_get_never_changes_state(client: TestClient, admin: User, worker: User) -> None:
    login(client, admin.username)
    for path in ("/logout", f"/admin/users/{worker.id}/disable"):
        assert client.get(path).status_code == 405
    assert client.get("/").status_code == 200
