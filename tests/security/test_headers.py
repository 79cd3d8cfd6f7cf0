"""Security headers on every response, signed in or not, error or not."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from intake.accounts.models import User
from tests.conftest import login

PATHS = ["/login", "/healthz", "/", "/admin/users", "/no-such-page", "/static/css/app.css"]


def _assert_strict(response) -> None:
    csp = response.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for directive in (
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "script-src 'self'",
    ):
        assert directive in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in response.headers["permissions-policy"]


@pytest.mark.parametrize("path", PATHS)
def test_anonymous_responses(client: TestClient, path: str) -> None:
    _assert_strict(client.get(path))


@pytest.mark.parametrize("path", PATHS)
def test_signed_in_responses_are_never_cached(client: TestClient, admin: User, path: str) -> None:
    login(client, admin.username)
    response = client.get(path)
    _assert_strict(response)
    if not path.startswith("/static/"):
        assert response.headers["cache-control"] == "no-store"


def test_hsts_only_over_https(client: TestClient) -> None:
    assert "strict-transport-security" not in client.get("/login").headers
    secure = TestClient(client.app, base_url="https://testserver")
    assert "max-age=" in secure.get("/login").headers["strict-transport-security"]


def test_secure_cookie_prefix_in_production_settings(
    tmp_path, database_url, session_factory, worker: User
) -> None:
    from intake.app import create_app
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, database_url, secure_cookies=True)
    app = create_app(settings)
    app.state.session_factory = session_factory
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    page = client.get("/login")
    assert "__Host-intake_pre" in page.headers["set-cookie"]
    assert "secure" in page.headers["set-cookie"].lower()
    response = login(client, worker.username)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-intake_session=") and "Secure" in cookie and "Path=/" in cookie


def test_unexpected_error_is_a_plain_page_with_headers(app, client: TestClient) -> None:
    from intake.security.permissions import Public

    @app.get("/boom", dependencies=[Public])
    def boom() -> None:
        raise RuntimeError("secret personal detail: Jane Doe")

    response = client.get("/boom")
    assert response.status_code == 500
    assert "Jane Doe" not in response.text and "Traceback" not in response.text
    _assert_strict(response)
