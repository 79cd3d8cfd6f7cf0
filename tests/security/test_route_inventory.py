"""Deny by default: every route of the app declares a permission or says it is public."""

from __future__ import annotations

from intake.app import create_app
from intake.security.permissions import ROLE_PERMISSIONS, declared_access, iter_api_routes
from tests.conftest import make_settings

PUBLIC_ROUTES = {
    ("GET", "/login"),
    ("POST", "/login"),
    # The code step after a password: it answers only to a challenge cookie (accounts.mfa).
    ("GET", "/login/code"),
    ("POST", "/login/code"),
    ("GET", "/healthz"),
    ("POST", "/language"),
    # The API's description (no data): its routes answer to a token only (intake.api).
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/docs"),
    # The installable app's shell: no data, served from the root (intake.filling.offline_views).
    ("GET", "/sw.js"),
    ("GET", "/manifest.webmanifest"),
}


def test_every_route_declares_access(tmp_path) -> None:
    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    undeclared, unexpected_public = [], []
    routes = iter_api_routes(app.routes)
    assert len(routes) >= 10
    known = {str(p) for perms in ROLE_PERMISSIONS.values() for p in perms}
    for route in routes:
        access = declared_access(route.dependant)
        for method in route.methods:
            if not access:
                undeclared.append((method, route.path))
            elif "public" in access and (method, route.path) not in PUBLIC_ROUTES:
                unexpected_public.append((method, route.path))
            assert access <= known | {"public"}, route.path
    assert undeclared == []
    assert unexpected_public == []


def test_an_undeclared_route_is_caught(tmp_path) -> None:
    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}"))

    @app.get("/forgotten")
    def forgotten() -> str:
        return "oops"

    route = next(r for r in iter_api_routes(app.routes) if r.path == "/forgotten")
    assert declared_access(route.dependant) == set()
