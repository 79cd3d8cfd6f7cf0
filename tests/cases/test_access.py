"""Need to know: who sees and acts on which case, through the service query and every route."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit.models import AuditEvent
from intake.cases import team
from intake.cases.access import CaseNotFound, get_visible_case, visible_cases
from intake.cases.models import Case, CaseNote, CaseTeamMember
from intake.db import new_id
from tests.conftest import login, make_user, page_token

from .helpers import assign, open_case, reload

ROLES = ["owner", "team_worker", "other_worker", "supervisor", "other_supervisor", "admin"]
# Which of the two cases each person may see.
SEES = {"owner": "own", "team_worker": "own", "supervisor": "own", "other_supervisor": "other"}


@dataclass
class World:
    users: dict[str, User]
    stranger: User
    cases: dict[str, Case]


@pytest.fixture
def world(db: Session, org: Organisation, other_org: Organisation) -> World:
    users = {
        "owner": make_user(db, org, "outreach_worker", "owner"),
        "team_worker": make_user(db, org, "outreach_worker", "team-worker"),
        "other_worker": make_user(db, org, "outreach_worker", "other-worker"),
        "supervisor": make_user(db, org, "supervisor", "supervisor"),
        "other_supervisor": make_user(db, other_org, "supervisor", "other-supervisor"),
        "admin": make_user(db, org, "admin", "admin"),
    }
    stranger = make_user(db, other_org, "outreach_worker", "stranger")
    own = open_case(db, users["owner"])
    assign(db, users["supervisor"], own, users["team_worker"], "social_worker")
    other = open_case(db, stranger)
    return World(users, stranger, {"own": own, "other": other})


def test_the_scoped_query_follows_need_to_know(db: Session, world: World) -> None:
    for role, user in world.users.items():
        seen = set(db.execute(visible_cases(user=user)).scalars())
        expected = {world.cases[SEES[role]]} if role in SEES else set()
        assert seen == expected, role


def test_a_worker_taken_off_the_team_no_longer_sees_the_case(db: Session, world: World) -> None:
    member = db.execute(
        select(CaseTeamMember).where(CaseTeamMember.user_id == world.users["team_worker"].id)
    ).scalar_one()
    team.remove_team_member(
        db=db, actor=world.users["supervisor"], case=world.cases["own"], member_id=member.id
    )
    with pytest.raises(CaseNotFound):
        get_visible_case(db=db, user=world.users["team_worker"], case_id=world.cases["own"].id)


def test_a_disabled_user_sees_nothing(db: Session, world: World) -> None:
    supervisor = world.users["supervisor"]
    supervisor.active = False
    assert list(db.execute(visible_cases(user=supervisor)).scalars()) == []


def _notes(db: Session, case: Case) -> int:
    return len(db.execute(select(CaseNote.id).where(CaseNote.case_id == case.id)).all())


def _expected(role: str, which: str) -> dict[str, int | str]:
    routes = ("view", "team", "remove", "track", "fire", "note")
    if role == "admin":  # no case permission at all: refused before any lookup
        return {**dict.fromkeys(routes, 403), "list": 403}
    visible = SEES.get(role) == which
    found = 404 if not visible else None
    listed = "listed" if visible else "absent"
    if role.endswith("worker") or role == "owner":
        return {
            "view": found or 200,
            "team": 403,
            "remove": 403,
            "track": 403,
            "fire": found or 303,
            # Notes are for the team: the owner sees the case, not what is written on it.
            "note": found or (303 if role == "team_worker" else 403),
            "list": listed,
        }
    return {**{key: found or (200 if key == "view" else 303) for key in routes}, "list": listed}


@pytest.mark.parametrize("which", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
def test_every_case_route_for_every_role(
    db: Session, client: TestClient, world: World, role: str, which: str
) -> None:
    user = world.users[role]
    case = world.cases[which]
    colleague = world.users["owner"] if which == "own" else world.stranger
    expected = _expected(role, which)
    login(client, user.username)
    token = page_token(client, "/")
    base = f"/cases/{case.id}"
    existing = db.execute(
        select(CaseTeamMember.id).where(CaseTeamMember.case_id == case.id)
    ).scalar()

    def post(path: str, **data: object) -> int:
        before = reload(db, case).row_version
        status = client.post(base + path, data={"csrf_token": token, **data}).status_code
        if status in (403, 404):
            assert reload(db, case).row_version == before, (role, path)
        return status

    listing = client.get("/cases", params={"q": case.reference})
    observed: dict[str, int | str] = {
        "list": listing.status_code
        if listing.status_code != 200
        else ("listed" if f'href="/cases/{case.id}"' in listing.text else "absent")
    }
    observed["view"] = client.get(base).status_code
    notes_before = _notes(db, case)
    observed["note"] = post("/notes", text="seen at the station")
    assert (_notes(db, case) > notes_before) is (observed["note"] == 303)
    observed["team"] = post("/team", user_id=colleague.id, function="health_specialist")
    added = db.execute(
        select(CaseTeamMember.id).where(
            CaseTeamMember.case_id == case.id, CaseTeamMember.function == "health_specialist"
        )
    ).scalar()
    observed["remove"] = post(f"/team/{added or existing}/remove")
    observed["track"] = post(
        "/track",
        track="young_girls:urgent_assistance",
        reason="age confirmed",
        row_version=reload(db, case).row_version,
    )
    observed["fire"] = post(
        "/transitions",
        trigger="record_lost_contact",
        reason="no answer",
        row_version=reload(db, case).row_version,
    )
    assert observed == expected
    final = reload(db, case)
    moved = expected["fire"] == 303
    assert final.state.startswith("contact_lost_") is moved


def test_intake_routes_for_every_role(client: TestClient, world: World) -> None:
    for role, user in world.users.items():
        client.cookies.clear()
        login(client, user.username)
        expected = 403 if role == "admin" else 200
        assert client.get("/intake/new").status_code == expected, role
        assert client.get(f"/intake/{new_id()}").status_code == (
            expected if role == "admin" else 404
        )


def test_another_organisations_case_looks_like_a_made_up_id(
    db: Session, client: TestClient, world: World
) -> None:
    login(client, world.users["supervisor"].username)
    foreign = client.get(f"/cases/{world.cases['other'].id}")
    made_up = client.get(f"/cases/{new_id()}")
    too_long = client.get("/cases/" + "a" * 200)
    assert foreign.status_code == made_up.status_code == too_long.status_code == 404
    # The CSRF token is masked afresh in every response; everything else is the same.
    token = re.compile(r'(Token": "|name="csrf_token" value=")[^"]+"')
    pages = [token.sub(r'\1"', r.text) for r in (foreign, made_up, too_long)]
    assert pages[0] == pages[1] == pages[2]
    assert world.cases["other"].reference not in foreign.text
    # Each probe is in the audit trail; a malformed id is not copied into it.
    probes = db.execute(
        select(AuditEvent.object_id, AuditEvent.actor_id, AuditEvent.action)
        .where(AuditEvent.detail == "not_found", AuditEvent.outcome == "refused")
        .order_by(AuditEvent.id)
    ).all()
    assert [p.object_id for p in probes] == [
        world.cases["other"].id,
        made_up.request.url.path[7:],
        "",
    ]
    # The trail names who probed, and for what.
    assert {(p.actor_id, p.action) for p in probes} == {
        (world.users["supervisor"].id, "case.viewed")
    }


def test_being_on_one_team_opens_that_case_only(db: Session, world: World) -> None:
    # The team worker is on the team of the owner's case; another case of the
    # same organisation, owned by someone else, stays out of sight.
    elsewhere = open_case(db, world.users["other_worker"])
    seen = set(db.execute(visible_cases(user=world.users["team_worker"])).scalars())
    assert seen == {world.cases["own"]}
    with pytest.raises(CaseNotFound):
        get_visible_case(db=db, user=world.users["team_worker"], case_id=elsewhere.id)
