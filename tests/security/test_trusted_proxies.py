"""X-Forwarded-For is believed only from the proxies named in INTAKE_TRUSTED_PROXIES:
the app is served through uvicorn's own configuration as `intake serve` builds it."""

from __future__ import annotations

from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from intake.accounts.models import User
from intake.app import create_app
from intake.cli import proxy_options
from intake.config import Settings
from tests.conftest import PASSWORD, csrf_from, make_settings


def _served(settings: Settings, session_factory: sessionmaker[Session]) -> TestClient:
    app = create_app(settings)
    app.state.engine.dispose()
    app.state.session_factory = session_factory
    config = uvicorn.Config(app, log_config=None, **proxy_options(settings))  # type: ignore[arg-type]
    config.load()
    # The peer is a process on the same host, as a local attacker or a proxy would be.
    return TestClient(
        config.loaded_app,
        base_url="http://testserver",
        follow_redirects=False,
        client=("127.0.0.1", 50000),
    )


def _sign_in(client: TestClient, username: str, password: str, forwarded: str) -> int:
    headers = {"X-Forwarded-For": forwarded}
    page = client.get("/login", headers=headers)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
        headers=headers,
    )
    client.cookies.clear()
    return response.status_code


@pytest.mark.parametrize(("trusted", "throttled"), [("", True), ("127.0.0.1", False)])
def test_forwarded_addresses_do_not_escape_the_throttle_by_default(
    tmp_path: Path,
    database_url: str,
    session_factory: sessionmaker[Session],
    supervisor: User,
    trusted: str,
    throttled: bool,
) -> None:
    settings = make_settings(
        tmp_path / "var", database_url, login_client_max_failures=3, trusted_proxies=trusted
    )
    client = _served(settings, session_factory)
    for attempt in range(3):
        assert _sign_in(client, "nobody", "wrong", f"203.0.113.{attempt}") == 401
    # A fresh forwarded address each time: with no trusted proxy the server still sees
    # 127.0.0.1, which is now blocked; behind a trusted proxy each client is its own.
    expected = 401 if throttled else 303
    assert _sign_in(client, supervisor.username, PASSWORD, "198.51.100.7") == expected


def test_the_default_is_to_trust_no_proxy(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert settings.trusted_proxies == ""
    assert proxy_options(settings)["proxy_headers"] is False
    assert proxy_options(
        make_settings(tmp_path, "sqlite://", trusted_proxies=" 10.0.0.1 , 192.168.0.0/24")
    ) == {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.1,192.168.0.0/24"}
    with pytest.raises(ValueError, match="not an address or network"):
        make_settings(tmp_path, "sqlite://", trusted_proxies="*")
