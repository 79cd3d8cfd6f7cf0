"""No administrator path leads to case data.

The administrators of two organisations and the installation administrator are tried on
every route of the route inventory (never a hand-kept list), aimed at their own and at the
other organisation's cases, users and organisation, then on random combinations
(Hypothesis). After every request: no 500, no case reference or note text in the page, the
case routes refused, and no secret on the page signs in anyone who can open a case,
whether that account was made or reset by the administrator in this or another
organisation."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts import service as accounts
from intake.accounts.models import Organisation, User
from intake.cases import notes
from intake.cases.models import Case, CaseTeamMember
from intake.db import new_id
from intake.definitions import service as definitions
from intake.security import passwords
from intake.security.permissions import CASE_ACCESS_ROLES, declared_access, iter_api_routes
from tests.cases.helpers import assign, open_case
from tests.conftest import PASSWORD, login, make_user, page_token

ADMINS = ["admin_a", "admin_b", "installer"]
CASE_PERMISSIONS = {"cases:view", "cases:create", "case:advance", "team:assign", "dashboard:view"}
SECRET_RE = re.compile(r"[a-z2-9]{5}(?:-[a-z2-9]{5}){3}")
_names = itertools.count()


@dataclass(frozen=True)
class Endpoint:
    method: str
    name: str
    path: str
    params: tuple[str, ...]
    access: frozenset[str]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def inventory(app: FastAPI) -> list[Endpoint]:
    found = []
    for route in iter_api_routes(app.routes):
        assert isinstance(route, APIRoute)
        for method in sorted(route.methods):
            found.append(
                Endpoint(
                    method,
                    route.name,
                    route.path,
                    tuple(route.param_convertors),
                    frozenset(declared_access(route.dependant)),
                )
            )
    return found


@dataclass
class World:
    orgs: dict[str, Organisation]
    people: dict[str, User]
    cases: dict[str, Case]
    members: dict[str, str]
    markers: list[str]
    clients: dict[str, TestClient]
    tokens: dict[str, str]


@pytest.fixture
def world(app: FastAPI, db: Session, org: Organisation, other_org: Organisation) -> World:
    definitions.sync_files(db=db)
    operators = accounts.get_or_create_organisation(db=db, name="Operators")
    people = {
        "admin_a": make_user(db, org, "admin", "admin-a"),
        "admin_b": make_user(db, other_org, "admin", "admin-b"),
        "installer": make_user(db, operators, "installation_admin", "installer"),
        "supervisor_a": make_user(db, org, "supervisor", "supervisor-a"),
        "worker_a": make_user(db, org, "outreach_worker", "worker-a"),
        "supervisor_b": make_user(db, other_org, "supervisor", "supervisor-b"),
        "worker_b": make_user(db, other_org, "outreach_worker", "worker-b"),
    }
    cases, members, markers = {}, {}, []
    for side in ("a", "b"):
        case = open_case(db, people[f"worker_{side}"])
        assign(db, people[f"supervisor_{side}"], case, people[f"worker_{side}"], "social_worker")
        text = f"Note-marker-{side}-{new_id()}"
        notes.add_note(
            db=db,
            settings=app.state.settings,
            actor=people[f"supervisor_{side}"],
            case=case,
            text=text,
        )
        cases[side] = case
        members[side] = db.execute(
            select(CaseTeamMember.id).where(CaseTeamMember.case_id == case.id)
        ).scalar_one()
        markers += [case.reference, text]
    world = World({"a": org, "b": other_org}, people, cases, members, markers, {}, {})
    for name in ADMINS:
        _sign_in(app, world, name)
    return world


def _sign_in(app: FastAPI, world: World, name: str) -> None:
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    assert getattr(login(client, world.people[name].username), "status_code", None) == 303
    world.clients[name] = client
    world.tokens[name] = page_token(client, "/")


def _path(app: FastAPI, endpoint: Endpoint, world: World, side: str, pick: int) -> str:
    people = [world.people[f"worker_{side}"], world.people[f"supervisor_{side}"]]
    people += [world.people[f"admin_{side}"], world.people["installer"]]
    values: dict[str, str] = {
        "case_id": world.cases[side].id,
        "user_id": people[pick % len(people)].id,
        "organisation_id": world.orgs[side].id,
        "member_id": world.members[side],
        "intake_id": new_id(),
        "client_id": new_id(),
        "form_key": "consent",
        "kind": "workflow",
        "key": "standard",
        "number": "1",
    }
    path = app.url_path_for(endpoint.name, **{p: values.get(p, "x") for p in endpoint.params})
    assert path.endswith(endpoint.path.split("}")[-1]), (path, endpoint.path)
    return str(path)


def _form(world: World, name: str, side: str, role: str) -> dict[str, str]:
    return {
        "csrf_token": world.tokens[name],
        "username": f"made-{next(_names)}",
        "display_name": "Made",
        "role": role,
        "organisation_id": world.orgs[side].id,
        "organisation": world.orgs[side].name,
        "name": f"Org {next(_names)}",
        "kind": "ngo",
        "text": "seen",
        "trigger": "record_lost_contact",
        "reason": "x",
        "function": "health_specialist",
    }


def _case_access_users(db: Session) -> list[User]:
    db.expire_all()
    return list(
        db.execute(
            select(User).where(User.role.in_(sorted(CASE_ACCESS_ROLES)), User.active.is_(True))
        ).scalars()
    )


def _restore(app: FastAPI, db: Session, world: World, name: str) -> None:
    """Undo what a request did to the acting administrator (or their organisation)."""
    db.expire_all()
    for org in db.execute(select(Organisation)).scalars():
        org.active = True
    for admin in ADMINS:
        person = db.get(User, world.people[admin].id)
        assert person is not None
        person.active, person.must_change_password = True, False
        person.password_hash = passwords.hash_password(PASSWORD)
    db.commit()
    if world.clients[name].get("/").status_code != 200:
        _sign_in(app, world, name)


def probe(
    app: FastAPI,
    db: Session,
    world: World,
    name: str,
    endpoint: Endpoint,
    side: str,
    pick: int,
    role: str = "supervisor",
) -> None:
    client = world.clients[name]
    path = _path(app, endpoint, world, side, pick)
    if endpoint.method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, data=_form(world, name, side, role))
    where = f"{name} {endpoint.method} {path}"
    assert response.status_code != 500, where
    for marker in world.markers:
        assert marker not in response.text, where
    if endpoint.access and endpoint.access <= CASE_PERMISSIONS:
        # The JSON API reads no session cookie: without a token it is a 401 (an
        # administrator cannot make a token with any scope: tests/api).
        api = endpoint.path.startswith("/api/v1/")
        assert response.status_code == (401 if api else 403), where
    shown = set(SECRET_RE.findall(response.text))
    if shown:
        for person in _case_access_users(db):
            for secret in shown:
                assert not passwords.verify_password(person.password_hash, secret), (
                    where,
                    person.role,
                )
    _restore(app, db, world, name)


def test_every_route_for_every_administrator(app: FastAPI, db: Session, world: World) -> None:
    endpoints = inventory(app)
    assert len(endpoints) >= 40
    for name, endpoint, side in itertools.product(ADMINS, endpoints, ("a", "b")):
        picks = range(4) if "user_id" in endpoint.params else range(1)
        for pick in picks:
            probe(app, db, world, name, endpoint, side, pick)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_administrator_requests_never_reach_a_case(
    app: FastAPI, db: Session, world: World, data: Any
) -> None:
    endpoints = [e for e in inventory(app) if e.method == "POST" or e.params]
    name = data.draw(st.sampled_from(ADMINS), label="administrator")
    endpoint = data.draw(st.sampled_from(endpoints), label="route")
    side = data.draw(st.sampled_from(["a", "b"]), label="organisation")
    pick = data.draw(st.integers(0, 3), label="user")
    role = data.draw(
        st.sampled_from(["outreach_worker", "supervisor", "admin", "installation_admin", ""]),
        label="role",
    )
    probe(app, db, world, name, endpoint, side, pick, role)


def test_another_organisations_admin_cannot_make_or_reset_a_way_in(
    app: FastAPI, db: Session, world: World
) -> None:
    """The reported attack: org B's admin makes a supervisor "in org A", resets an org A
    worker, and tries to sign in as either and open org A's case."""
    intruder = world.clients["admin_b"]
    token = world.tokens["admin_b"]
    pages = [
        intruder.post(
            "/admin/users",
            data={
                "csrf_token": token,
                "username": "inside-a",
                "role": "supervisor",
                "organisation_id": world.orgs["a"].id,
                "organisation": world.orgs["a"].name,
            },
        ),
        intruder.post(
            f"/admin/users/{world.people['worker_a'].id}/reset-password",
            data={"csrf_token": token},
        ),
        intruder.post(
            f"/admin/users/{world.people['supervisor_a'].id}/reset-password",
            data={"csrf_token": token},
        ),
    ]
    assert [p.status_code for p in pages] == [200, 404, 404]
    made = accounts.find_user_by_name(db=db, username="inside-a")
    assert made is not None and made.organisation_id == world.orgs["b"].id
    pages.append(intruder.get("/admin/users"))
    shown = {s for page in pages for s in SECRET_RE.findall(page.text)}
    assert shown == set()
    for username in ("inside-a", "worker-a", "supervisor-a"):
        for secret in shown | {PASSWORD}:
            client = TestClient(app, base_url="http://testserver", follow_redirects=False)
            signed = getattr(login(client, username, secret), "status_code", None) == 303
            # Only the untouched colleagues' own passwords still work.
            assert signed is (secret == PASSWORD and username != "inside-a"), username
            if signed:
                page = client.get(f"/cases/{world.cases['b'].id}")
                assert page.status_code == 404
    # The installation administrator may make an administrator in org A, who sees no case.
    installer = world.clients["installer"]
    created = installer.post(
        "/admin/users",
        data={
            "csrf_token": world.tokens["installer"],
            "username": "admin-a2",
            "role": "admin",
            "organisation_id": world.orgs["a"].id,
        },
    )
    secret = SECRET_RE.search(created.text)
    assert secret is not None
    second = TestClient(app, base_url="http://testserver", follow_redirects=False)
    assert getattr(login(second, "admin-a2", secret.group()), "status_code", None) == 303
    second.post(
        "/account/password",
        data={
            "csrf_token": page_token(second, "/account/password"),
            "current": secret.group(),
            "new": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    for path in ("/cases", f"/cases/{world.cases['a'].id}", "/dashboard"):
        assert second.get(path).status_code == 403, path
