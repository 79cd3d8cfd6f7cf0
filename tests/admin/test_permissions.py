"""Who may open each admin route: supervisors read, administrators edit, workers nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.admin.views import router
from intake.definitions import service as definitions
from intake.security.permissions import iter_api_routes
from tests.conftest import login, page_token

READ = [
    "/admin/definitions",
    "/admin/definitions/workflow/standard",
    "/admin/definitions/form/consent",
    "/admin/definitions/workflow/standard/versions/1",
    "/admin/definitions/form/consent/versions/1/download",
]
EDIT_PAGES = [
    "/admin/definitions/workflow/standard/edit",
    "/admin/definitions/form/consent/edit",
    "/admin/definitions/workflow/standard/migrate",
]
CHANGES = [
    "/admin/definitions/upload",
    "/admin/definitions/workflow/standard/check",
    "/admin/definitions/workflow/standard/publish",
    "/admin/definitions/workflow/standard/versions/1/republish",
    "/admin/definitions/workflow/standard/migrate/dry-run",
    "/admin/definitions/workflow/standard/migrate/apply",
    "/admin/definitions/xlsform",
    "/admin/definitions/xlsform/publish",
]


D = "/admin/definitions"
ROUTE_OF = {
    D: D,
    f"{D}/workflow/standard": f"{D}/{{kind}}/{{key}}",
    f"{D}/form/consent": f"{D}/{{kind}}/{{key}}",
    f"{D}/workflow/standard/versions/1": f"{D}/{{kind}}/{{key}}/versions/{{number}}",
    f"{D}/form/consent/versions/1/download": f"{D}/{{kind}}/{{key}}/versions/{{number}}/download",
    f"{D}/workflow/standard/edit": f"{D}/{{kind}}/{{key}}/edit",
    f"{D}/form/consent/edit": f"{D}/{{kind}}/{{key}}/edit",
    f"{D}/workflow/standard/migrate": f"{D}/workflow/{{key}}/migrate",
    f"{D}/upload": f"{D}/upload",
    f"{D}/workflow/standard/check": f"{D}/{{kind}}/{{key}}/check",
    f"{D}/workflow/standard/publish": f"{D}/{{kind}}/{{key}}/publish",
    f"{D}/workflow/standard/versions/1/republish": (
        f"{D}/{{kind}}/{{key}}/versions/{{number}}/republish"
    ),
    f"{D}/workflow/standard/migrate/dry-run": f"{D}/workflow/{{key}}/migrate/dry-run",
    f"{D}/workflow/standard/migrate/apply": f"{D}/workflow/{{key}}/migrate/apply",
    f"{D}/xlsform": f"{D}/xlsform",
    f"{D}/xlsform/publish": f"{D}/xlsform/publish",
}


def test_every_admin_route_is_covered_here() -> None:
    # The migration routes sit in a router included under the definitions prefix.
    declared = {
        (m, r.path if r.path.startswith("/admin/") else router.prefix + r.path)
        for r in iter_api_routes(router.routes)
        for m in r.methods
    }
    covered = {("GET", ROUTE_OF[p]) for p in READ + EDIT_PAGES} | {
        ("POST", ROUTE_OF[p]) for p in CHANGES
    }
    assert covered == declared


@pytest.fixture
def published_twice(db: Session, shipped: None, admin: User) -> None:
    version = definitions.latest(db=db, kind="workflow", key="standard")
    assert version is not None
    definitions.publish(
        db=db,
        kind="workflow",
        text="# again\n" + version.source_text,
        file="standard.yaml",
        actor=admin,
    )
    db.commit()


@pytest.mark.parametrize("role", ["admin", "supervisor", "outreach_worker"])
def test_each_role_sees_what_it_may_and_changes_only_what_it_may(
    client: TestClient,
    db: Session,
    published_twice: None,
    role: str,
    admin: User,
    supervisor: User,
    worker: User,
) -> None:
    user = {"admin": admin, "supervisor": supervisor, "outreach_worker": worker}[role]
    login(client, user.username)
    token = page_token(client, "/account/password")
    for path in READ:
        expected = 403 if role == "outreach_worker" else 200
        assert client.get(path).status_code == expected, path
    for path in EDIT_PAGES:
        assert client.get(path).status_code == (200 if role == "admin" else 403), path
    for path in CHANGES:
        response = client.post(path, data={"csrf_token": token})
        if role == "admin":
            assert response.status_code not in (401, 403, 500), path
        else:
            assert response.status_code == 403, path
    db.expire_all()
    versions = definitions.versions(db=db, kind="workflow", key="standard")
    # Only the administrator's republish of version 1 needs no more than the token.
    assert len(versions) == (3 if role == "admin" else 2)
    nav = client.get("/").text
    assert ('href="/admin/definitions"' in nav) == (role != "outreach_worker")


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient, shipped: None) -> None:
    for path in READ + EDIT_PAGES:
        response = client.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/login"), path


def test_unknown_definitions_and_versions_are_404(
    client: TestClient, app, supervisor: User, admin: User, shipped: None
) -> None:
    login(client, supervisor.username)
    for path in [
        "/admin/definitions/workflow/nothing",
        "/admin/definitions/case/standard",
        "/admin/definitions/workflow/standard/versions/7",
        "/admin/definitions/form/standard",
    ]:
        assert client.get(path).status_code == 404, path
    other = TestClient(app, base_url="http://testserver", follow_redirects=False)
    login(other, admin.username)
    assert other.get("/admin/definitions/workflow/standard/migrate?source=9").status_code == 404
    assert other.get("/admin/definitions/workflow/nothing/edit").status_code == 404
    assert other.get("/admin/definitions/form/consent/migrate").status_code == 404
