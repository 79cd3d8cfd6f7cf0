"""Signing out deletes the session cookie with the attributes it was set with; a browser
ignores the deletion of a `__Host-` cookie that lacks `Secure`."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from intake.accounts.models import User
from intake.app import create_app
from tests.conftest import csrf_from, login, make_settings, page_token

NAME = "__Host-intake_session"


@pytest.fixture
def secure_app(
    tmp_path: Path, database_url: str, session_factory: sessionmaker[Session]
) -> FastAPI:
    app = create_app(make_settings(tmp_path / "var", database_url, secure_cookies=True))
    app.state.engine.dispose()
    app.state.session_factory = session_factory
    return app


@pytest.fixture
def https(secure_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(secure_app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def _deletion(response: object) -> dict[str, str | bool]:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    found = [h for h in headers if h.startswith(f"{NAME}=")]
    assert len(found) == 1, headers
    morsel = SimpleCookie(found[0])[NAME]
    attributes = {key: morsel[key] for key in ("secure", "httponly", "samesite", "path")}
    attributes["max-age"] = morsel["max-age"]
    return attributes


def test_logout_deletes_the_secure_cookie_as_it_was_set(https: TestClient, worker: User) -> None:
    login(https, worker.username)
    response = https.post("/logout", data={"csrf_token": page_token(https, "/")})
    assert response.status_code == 303
    assert _deletion(response) == {
        "secure": True,
        "httponly": True,
        "samesite": "lax",
        "path": "/",
        "max-age": "0",
    }


def test_the_sign_in_page_drops_a_stale_secure_cookie_as_it_was_set(https: TestClient) -> None:
    response = https.get("/login", headers={"Cookie": f"{NAME}=stale-token"})
    assert response.status_code == 200 and csrf_from(response.text)
    assert _deletion(response)["secure"] is True
