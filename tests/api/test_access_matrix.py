"""Every role x every API route x every token it can hold: a token never widens access.

The API routes are read from the application's own route inventory; a route missing
from ROUTES below fails the test, so a new route must be placed in the matrix.
"""

from __future__ import annotations

import itertools

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts import tokens
from intake.accounts.models import Organisation, User
from intake.cases.models import Case
from intake.security.permissions import ROLE_PERMISSIONS, declared_access, iter_api_routes
from tests.api.conftest import bearer, first_contact, make_token
from tests.cases.helpers import open_case
from tests.conftest import make_user

# Route -> (the scope it needs, None for any; the permission of the map it declares).
ROUTES = {
    ("GET", "/api/v1/definitions"): (None, "account:own"),
    ("POST", "/api/v1/submissions"): ("submissions:write", "cases:create"),
    ("GET", "/api/v1/cases/{case_id}"): ("cases:read", "cases:view"),
    ("GET", "/api/v1/statistics"): ("statistics:read", "statistics:view"),
}
PUBLIC = {("GET", "/api/v1/openapi.json"), ("GET", "/api/v1/docs")}
SUCCESS = {"GET": 200, "POST": 201}


def _api_routes(app: FastAPI) -> dict[tuple[str, str], set[str]]:
    found = {}
    for route in iter_api_routes(app.routes):
        if route.path.startswith("/api/"):
            for method in route.methods:
                found[(method, route.path)] = declared_access(route.dependant)
    return found


def test_the_matrix_covers_every_api_route(app: FastAPI) -> None:
    routes = _api_routes(app)
    assert set(routes) == set(ROUTES) | PUBLIC
    for key, (_scope, permission) in ROUTES.items():
        assert routes[key] == {permission}, key
    for key in PUBLIC:
        assert routes[key] == {"public"}


def _send(client: TestClient, method: str, path: str, case: Case, secret: str | None) -> int:
    headers = bearer(secret) if secret else {}
    url = path.replace("{case_id}", case.id)
    if method == "POST":
        body = {**first_contact(), "case_id": case.id}
        return client.post(url, json=body, headers=headers).status_code
    return client.get(url, headers=headers).status_code


def _token_variants(user: User) -> list[frozenset[str]]:
    allowed = tokens.scopes_for(user)
    return [
        frozenset(c) for n in range(1, len(allowed) + 1) for c in itertools.combinations(allowed, n)
    ]


@pytest.mark.parametrize("role", sorted(ROLE_PERMISSIONS))
def test_every_role_on_every_route_with_every_token(
    client: TestClient, db: Session, org: Organisation, role: str
) -> None:
    user = make_user(db, org, role, f"api-{role}")
    granted = {str(p) for p in ROLE_PERMISSIONS[role]}
    assert set(tokens.scopes_for(user)) == {
        s for s, p in tokens.SCOPES.items() if str(p) in granted
    }
    owner = user if "cases:create" in granted else make_user(db, org, "outreach_worker", "owner")
    case = open_case(db, owner)
    for method, path in ROUTES:
        assert _send(client, method, path, case, None) == 401, (role, path)
    variants = _token_variants(user)
    if not variants:  # administrators: no token can be made at all
        with pytest.raises(tokens.TokenError):
            tokens.create_token(db=db, user=user, name="x", scopes=list(tokens.SCOPES), days=30)
        return
    for scopes in variants:
        secret = make_token(db, user, scopes=sorted(scopes))
        for (method, path), (scope, permission) in ROUTES.items():
            status = _send(client, method, path, case, secret)
            allowed = (scope is None or scope in scopes) and permission in granted
            expected = SUCCESS[method] if allowed else 403
            assert status == expected, (role, sorted(scopes), method, path, status)


def test_a_token_follows_its_users_role_not_the_role_it_was_made_under(
    client: TestClient, db: Session, worker: User
) -> None:
    case = open_case(db, worker)
    secret = make_token(db, worker)
    assert client.get(f"/api/v1/cases/{case.id}", headers=bearer(secret)).status_code == 200
    worker.role = "admin"
    db.commit()
    refused = client.get(f"/api/v1/cases/{case.id}", headers=bearer(secret))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert case.reference not in refused.text


def test_an_outreach_workers_token_sees_only_their_own_cases(
    client: TestClient, db: Session, worker: User, org: Organisation
) -> None:
    colleague = make_user(db, org, "outreach_worker", "colleague")
    theirs = open_case(db, colleague)
    secret = make_token(db, worker)
    assert client.get(f"/api/v1/cases/{theirs.id}", headers=bearer(secret)).status_code == 404
    supervisor = make_user(db, org, "supervisor", "boss")
    boss = make_token(db, supervisor)
    assert client.get(f"/api/v1/cases/{theirs.id}", headers=bearer(boss)).status_code == 200
