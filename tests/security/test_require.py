"""require(): the permission map enforced on a request, with guards built in each test.

The routes' own guards are built when the application is imported; these are made
afresh, so a changed line in require() shows here (and in `make mutation`).
"""

# No `from __future__ import annotations`: FastAPI must see the guard in the annotation.

from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.i18n import get_locale
from intake.security.permissions import (
    Permission,
    declared_access,
    iter_api_routes,
    require,
    roles_with,
)
from tests.conftest import csrf_from, login, make_user, page_token


def _probe(app: FastAPI, permission: Permission, **options: bool) -> None:
    guard = require(permission, **options)
    assert guard.intake_permission == permission  # type: ignore[attr-defined]

    def answer(user: Annotated[User, Depends(guard)]) -> PlainTextResponse:
        return PlainTextResponse(f"{user.username} {get_locale()}")

    app.get("/probe")(answer)
    app.post("/probe")(answer)


def test_a_signed_out_request_is_sent_to_sign_in(app: FastAPI, client: TestClient) -> None:
    _probe(app, Permission.CASES_VIEW)
    response = client.get("/probe")
    assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_the_role_must_grant_the_permission(app: FastAPI, client: TestClient, worker: User) -> None:
    _probe(app, Permission.TEAM_ASSIGN)
    login(client, worker.username)
    assert client.get("/probe").status_code == 403


def test_a_granted_permission_lets_the_user_through_in_their_language(
    app: FastAPI, client: TestClient, db: Session, org: Organisation
) -> None:
    _probe(app, Permission.CASES_VIEW)
    user = make_user(db, org, "outreach_worker", "speaks-lt")
    user.locale = "lt"
    db.commit()
    login(client, user.username)
    response = client.get("/probe")
    assert (response.status_code, response.text) == (200, "speaks-lt lt")
    route = next(r for r in iter_api_routes(app.routes) if r.path == "/probe")
    assert declared_access(route.dependant) == {str(Permission.CASES_VIEW)}


def test_a_post_needs_a_token_bound_to_the_session(
    app: FastAPI, client: TestClient, worker: User
) -> None:
    _probe(app, Permission.CASES_VIEW)
    before_sign_in = csrf_from(client.get("/login").text)
    login(client, worker.username)
    token = page_token(client, "/")
    assert client.post("/probe", data={"csrf_token": token}).status_code == 200
    # A token from before sign-in does not authorise acting as the user.
    assert client.post("/probe", data={"csrf_token": before_sign_in}).status_code == 403


def test_a_one_time_password_opens_only_the_routes_marked_for_it(
    app: FastAPI, client: TestClient, db: Session, org: Organisation
) -> None:
    user = make_user(db, org, "outreach_worker", "one-time")
    user.must_change_password = True
    db.commit()
    _probe(app, Permission.CASES_VIEW)
    login(client, user.username)
    response = client.get("/probe")
    assert (response.status_code, response.headers["location"]) == (303, "/account/password")


def test_a_route_marked_for_a_pending_password_change_lets_the_user_through(
    app: FastAPI, client: TestClient, db: Session, org: Organisation
) -> None:
    user = make_user(db, org, "outreach_worker", "one-time")
    user.must_change_password = True
    db.commit()
    _probe(app, Permission.OWN_ACCOUNT, while_password_change_pending=True)
    login(client, user.username)
    assert client.get("/probe").status_code == 200


def test_roles_with_reads_the_map() -> None:
    assert roles_with(Permission.CASES_VIEW) == {"outreach_worker", "supervisor"}
    assert roles_with(Permission.CASES_ORGANISATION) == {"supervisor"}
    assert roles_with(Permission.ORGANISATIONS_MANAGE) == {"installation_admin"}
