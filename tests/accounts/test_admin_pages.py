"""User administration in the browser: create, disable, reset, revoke; admins only."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts import service
from intake.accounts.models import User
from tests.conftest import PASSWORD, login, page_token


def _secret(html: str) -> str:
    code = BeautifulSoup(html, "html.parser").select_one(".secret code")
    assert code is not None
    return code.get_text()


def _handed_over(client: TestClient, supervisor: User, username: str) -> str:
    """The one-time password a supervisor makes for a waiting colleague."""
    desk = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    login(desk, supervisor.username)
    page = BeautifulSoup(desk.get("/organisation/accounts").text, "html.parser")
    row = next(tr for tr in page.select("tr") if username in tr.get_text())
    form = row.select_one("form")
    assert form is not None
    made = desk.post(str(form["action"]), data={"csrf_token": page_token(desk, "/")})
    assert made.status_code == 200
    return _secret(made.text)


def test_admin_creates_user_who_must_change_the_one_time_password(
    client: TestClient, admin: User, supervisor: User
) -> None:
    login(client, admin.username)
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": page_token(client, "/admin/users"),
            "username": "Ruta.K",
            "display_name": "Rūta",
            "role": "outreach_worker",
        },
    )
    assert response.status_code == 200
    # The administrator is told who hands the password over, and never sees it.
    assert BeautifulSoup(response.text, "html.parser").select_one(".secret") is None
    assert "A supervisor of their organisation" in response.text
    secret = _handed_over(client, supervisor, "ruta.k")
    assert re.fullmatch(r"[a-z2-9]{5}(-[a-z2-9]{5}){3}", secret)
    assert secret not in client.get("/admin/users").text

    phone = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    signed_in = login(phone, "ruta.k", secret)
    assert signed_in.headers["location"] == "/account/password"
    assert phone.get("/").headers["location"] == "/account/password"
    token = page_token(phone, "/account/password")
    weak = phone.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current": secret,
            "new": "qwerty123456",
            "confirm": "qwerty123456",
        },
    )
    assert weak.status_code == 422 and "too common" in weak.text
    done = phone.post(
        "/account/password",
        data={"csrf_token": token, "current": secret, "new": PASSWORD, "confirm": PASSWORD},
    )
    assert done.status_code == 200
    assert phone.get("/").status_code == 200
    assert (
        login(TestClient(client.app, base_url="http://testserver"), "ruta.k", secret).status_code
        == 401
    )


def test_reset_password_ends_sessions(
    client: TestClient, db: Session, admin: User, worker: User, supervisor: User
) -> None:
    phone = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    login(phone, worker.username)
    login(client, admin.username)
    response = client.post(
        f"/admin/users/{worker.id}/reset-password",
        data={"csrf_token": page_token(client, "/admin/users")},
    )
    assert response.status_code == 200
    assert phone.get("/").status_code == 303
    assert login(phone, worker.username, PASSWORD).status_code == 401
    assert BeautifulSoup(response.text, "html.parser").select_one(".secret") is None
    assert (
        login(phone, worker.username, _handed_over(client, supervisor, worker.username)).status_code
        == 303
    )


def test_disable_and_revoke_from_the_page(client: TestClient, admin: User, worker: User) -> None:
    phone = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    login(phone, worker.username)
    login(client, admin.username)
    token = page_token(client, "/admin/users")
    assert (
        client.post(
            f"/admin/users/{worker.id}/revoke-sessions", data={"csrf_token": token}
        ).status_code
        == 200
    )
    assert phone.get("/").status_code == 303
    login(phone, worker.username)
    assert (
        client.post(f"/admin/users/{worker.id}/disable", data={"csrf_token": token}).status_code
        == 200
    )
    assert phone.get("/").status_code == 303
    page = client.get("/admin/users").text
    assert "Disabled" in page


def test_admin_cannot_disable_themselves(client: TestClient, admin: User) -> None:
    login(client, admin.username)
    response = client.post(
        f"/admin/users/{admin.id}/disable", data={"csrf_token": page_token(client, "/admin/users")}
    )
    assert response.status_code == 422
    assert client.get("/").status_code == 200


def test_unknown_user_id_is_404(client: TestClient, admin: User) -> None:
    login(client, admin.username)
    response = client.post(
        "/admin/users/00000000000000000000000000000000/disable",
        data={"csrf_token": page_token(client, "/admin/users")},
    )
    assert response.status_code == 404


def test_only_admins_manage_users(client: TestClient, supervisor: User, worker: User) -> None:
    for person in (supervisor, worker):
        fresh = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
        login(fresh, person.username)
        assert fresh.get("/admin/users").status_code == 403
        token = page_token(fresh, "/")
        response = fresh.post(
            "/admin/users",
            data={"csrf_token": token, "username": "sneaky", "role": "admin"},
        )
        assert response.status_code == 403


def test_anonymous_is_sent_to_sign_in(client: TestClient) -> None:
    for path in ("/", "/admin/users", "/account/password"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/login"


def test_user_preferred_language_wins(client: TestClient, db: Session, worker: User) -> None:
    service.set_locale_preference(db=db, user=worker, locale="ru")
    login(client, worker.username)
    page = client.get("/", headers={"Accept-Language": "lt"})
    assert BeautifulSoup(page.text, "html.parser").html["lang"] == "ru"


def test_language_switcher_remembers_choice(client: TestClient, db: Session, worker: User) -> None:
    login(client, worker.username)
    response = client.post(
        "/language", data={"csrf_token": page_token(client, "/"), "locale": "lt"}
    )
    assert response.status_code == 303
    db.expire_all()
    assert db.get(User, worker.id).locale == "lt"
    assert BeautifulSoup(client.get("/").text, "html.parser").html["lang"] == "lt"
