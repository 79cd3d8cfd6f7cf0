"""Partner team members: a municipality's psychologist on an NGO's case team.

The partner sees the reference, the stage, the forms of the stages their function is
needed in and the team notes; never the case's notes, its other forms or the case page.
Canary values prove it (asserted on the HTML). Runs on both databases.
"""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.audit.models import AuditEvent
from intake.cases.models import Case, CaseTeamMember
from intake.db import utcnow
from intake.referrals.models import PartnerMember
from tests.referrals.helpers import CONSENT, NOTE, SHARED_NAME, UNSHARED, World, sign_in, store

PSY = "Psychologycanary" + "Rt"
TEAM_NOTE = "Teamnotecanary" + "Mm"


def invite(
    client: TestClient,
    token: str,
    case: Case,
    organisation_id: str,
    username: str,
    function: str = "psychologist",
) -> Any:
    return client.post(
        f"/cases/{case.id}/partners",
        data={
            "csrf_token": token,
            "organisation_id": organisation_id,
            "username": username,
            "function": function,
        },
    )


def member_of(db: Session, case: Case) -> PartnerMember:
    db.expire_all()
    return (
        db.execute(
            select(PartnerMember)
            .where(PartnerMember.case_id == case.id)
            .order_by(PartnerMember.invited_at.desc())
        )
        .scalars()
        .first()
    )  # type: ignore[return-value]


@pytest.fixture
def psy_case(db: Session, app: FastAPI, world: World) -> World:
    store(
        db,
        app.state.settings,
        world.case,
        "psychological_assessment",
        world.people["supervisor_a"],
        {
            "assessment_date": "2026-11-01",
            "self_harm_risk": "low",
            "safety_plan_made": True,
            "summary": PSY,
        },
    )
    return world


def approve_partner(db: Session, client: TestClient, world: World) -> PartnerMember:
    p = world.people
    token = sign_in(client, p["supervisor_a"])
    assert (
        invite(client, token, world.case, world.b.id, p["outreach_worker_b"].username).status_code
        == 303
    )
    member = member_of(db, world.case)
    token = sign_in(client, p["supervisor_b"])
    listing = BeautifulSoup(client.get("/referrals/incoming").text, "html.parser")
    assert listing.select_one(f'[data-partner="{member.id}"]') is not None
    assert (
        client.post(f"/partners/{member.id}/approve", data={"csrf_token": token}).status_code == 303
    )
    return member_of(db, world.case)


def test_a_partner_sees_only_what_their_function_needs(
    db: Session, client: TestClient, app: FastAPI, psy_case: World
) -> None:
    world, p = psy_case, psy_case.people
    token = sign_in(client, p["supervisor_a"])
    invited = invite(client, token, world.case, world.b.id, p["outreach_worker_b"].username)
    assert invited.status_code == 303
    member = member_of(db, world.case)
    # Not before approval.
    sign_in(client, p["outreach_worker_b"])
    assert client.get(f"/partner/cases/{world.case.id}").status_code == 404

    token = sign_in(client, p["supervisor_b"])
    listing = BeautifulSoup(client.get("/referrals/incoming").text, "html.parser")
    assert listing.select_one(f'[data-partner="{member.id}"]') is not None
    approved = client.post(f"/partners/{member.id}/approve", data={"csrf_token": token})
    assert approved.status_code == 303
    member = member_of(db, world.case)
    assert member.status == "approved"
    sign_in(client, p["outreach_worker_b"])
    listing = client.get("/partner/cases")
    assert world.case.reference in listing.text
    page = client.get(f"/partner/cases/{world.case.id}")
    assert page.status_code == 200
    words = BeautifulSoup(page.text, "html.parser").get_text(" ")
    assert world.case.reference in words and "Urgent assistance" in words and PSY in words
    for canary in (SHARED_NAME, UNSHARED, NOTE):
        assert canary not in page.text, canary
    assert client.get(f"/cases/{world.case.id}").status_code == 404

    # Team notes: written by either side, read by both; the case's own notes stay inside.
    token = sign_in(client, p["supervisor_a"])
    added = client.post(
        f"/cases/{world.case.id}/team-notes", data={"csrf_token": token, "text": TEAM_NOTE}
    )
    assert added.status_code == 303
    blank = client.post(
        f"/cases/{world.case.id}/team-notes", data={"csrf_token": token, "text": ""}
    )
    assert blank.status_code == 422 and "Write the note first" in blank.text
    case_page = client.get(f"/cases/{world.case.id}").text
    assert TEAM_NOTE in case_page and "On the team" in case_page
    # The stage's team, as data for the cooperation section: what is still missing here.
    needed = BeautifulSoup(case_page, "html.parser").select_one("#needed-here")
    assert needed is not None and "Social worker (missing)" in needed.get_text(" ")
    token = sign_in(client, p["outreach_worker_b"])
    assert TEAM_NOTE in client.get(f"/partner/cases/{world.case.id}").text
    reply = client.post(
        f"/cases/{world.case.id}/team-notes", data={"csrf_token": token, "text": "Session held"}
    )
    assert reply.status_code == 303
    empty = client.post(
        f"/cases/{world.case.id}/team-notes", data={"csrf_token": token, "text": " "}
    )
    assert empty.status_code == 422
    sign_in(client, p["supervisor_a"])
    assert "Session held" in client.get(f"/cases/{world.case.id}").text

    # Consent to share with municipalities withdrawn: access ends at once.
    store(
        db,
        app.state.settings,
        world.case,
        "consent",
        p["outreach_worker_a"],
        {**CONSENT, "sharing_with": ["ngos"]},
    )
    token = sign_in(client, p["outreach_worker_b"])
    assert client.get(f"/partner/cases/{world.case.id}").status_code == 404
    refused = client.post(
        f"/cases/{world.case.id}/team-notes", data={"csrf_token": token, "text": "x"}
    )
    assert refused.status_code == 404
    store(db, app.state.settings, world.case, "consent", p["outreach_worker_a"], CONSENT)
    assert client.get(f"/partner/cases/{world.case.id}").status_code == 200

    # Removed by the case's supervisor: access ends, the team row too.
    token = sign_in(client, p["supervisor_a"])
    assert (
        client.post(f"/partners/{member.id}/remove", data={"csrf_token": token}).status_code == 303
    )
    sign_in(client, p["outreach_worker_b"])
    assert client.get(f"/partner/cases/{world.case.id}").status_code == 404
    assert (
        db.execute(
            select(CaseTeamMember).where(
                CaseTeamMember.user_id == p["outreach_worker_b"].id,
                CaseTeamMember.removed_at.is_(None),
            )
        ).first()
        is None
    )
    viewed = db.execute(select(AuditEvent).where(AuditEvent.action == "partner.case_viewed")).all()
    assert len(viewed) >= 2


def test_access_ends_when_the_case_closes(db: Session, client: TestClient, psy_case: World) -> None:
    approve_partner(db, client, psy_case)
    sign_in(client, psy_case.people["outreach_worker_b"])
    assert client.get(f"/partner/cases/{psy_case.case.id}").status_code == 200
    db.execute(update(Case).where(Case.id == psy_case.case.id).values(closed_at=utcnow()))
    db.commit()
    assert client.get(f"/partner/cases/{psy_case.case.id}").status_code == 404
    assert psy_case.case.reference not in client.get("/partner/cases").text


def test_a_declined_invitation_gives_nothing(db: Session, client: TestClient, world: World) -> None:
    p = world.people
    token = sign_in(client, p["supervisor_a"])
    invite(client, token, world.case, world.b.id, p["outreach_worker_b"].username)
    member = member_of(db, world.case)
    token = sign_in(client, p["supervisor_b"])
    assert (
        client.post(f"/partners/{member.id}/decline", data={"csrf_token": token}).status_code == 303
    )
    # Answered already: a second answer changes nothing.
    client.post(f"/partners/{member.id}/approve", data={"csrf_token": token})
    assert member_of(db, world.case).status == "declined"
    sign_in(client, p["outreach_worker_b"])
    assert client.get(f"/partner/cases/{world.case.id}").status_code == 404
    # Another organisation's supervisor cannot answer it.
    token = sign_in(client, p["supervisor_a"])
    invite(client, token, world.case, world.b.id, p["outreach_worker_b"].username)
    again = member_of(db, world.case)
    token = sign_in(client, p["supervisor_c"])
    assert (
        client.post(f"/partners/{again.id}/approve", data={"csrf_token": token}).status_code == 404
    )
    assert member_of(db, world.case).status == "invited"


def test_bad_invitations_store_nothing(
    db: Session, client: TestClient, app: FastAPI, world: World
) -> None:
    p = world.people
    token = sign_in(client, p["supervisor_a"])
    cases = [
        (world.a.id, p["outreach_worker_a"].username, "psychologist", "own organisation"),
        (world.b.id, p["outreach_worker_b"].username, "astrologer", "Choose the function"),
        ("x" * 40, p["outreach_worker_b"].username, "psychologist", "Choose the person"),
    ]
    for organisation_id, username, function, message in cases:
        response = invite(client, token, world.case, organisation_id, username, function)
        assert response.status_code == 422 and message in response.text, (username, function)
    store(
        db,
        app.state.settings,
        world.case,
        "consent",
        p["outreach_worker_a"],
        {**CONSENT, "sharing_with": ["ngos"]},
    )
    no_consent = invite(client, token, world.case, world.b.id, p["outreach_worker_b"].username)
    assert no_consent.status_code == 422 and "consent to share" in no_consent.text
    assert db.execute(select(PartnerMember)).first() is None
    store(db, app.state.settings, world.case, "consent", p["outreach_worker_a"], CONSENT)
    assert (
        invite(client, token, world.case, world.b.id, p["outreach_worker_b"].username).status_code
        == 303
    )
    # Invited again: the same answer as the first time (it must not confirm the name), no row.
    twice = invite(
        client, token, world.case, world.b.id, p["outreach_worker_b"].username, "pedagogue"
    )
    assert twice.status_code == 303
    assert len(db.execute(select(PartnerMember)).all()) == 1


# --- the access matrix: every partner route x role x organisation -----------------------------

ROLES = ("outreach_worker", "supervisor", "admin")


def test_every_partner_route_is_in_the_matrix() -> None:
    from intake.referrals.partner_views import router
    from intake.security.permissions import iter_api_routes

    declared = {(m, r.path) for r in iter_api_routes(router.routes) for m in r.methods}
    assert len(declared) == 8


@pytest.mark.parametrize("who", [f"{r}_{s}" for r in ROLES for s in "abc"] + ["installation_admin"])
def test_access_matrix(db: Session, client: TestClient, psy_case: World, who: str) -> None:
    world, p = psy_case, psy_case.people
    token = sign_in(client, p["supervisor_a"])
    invite(client, token, world.case, world.b.id, p["supervisor2_b"].username)
    member = member_of(db, world.case)
    case = world.case.id
    token = sign_in(client, p[who])
    role, _sep, side = who.rpartition("_")
    if who == "installation_admin":
        role, side = who, "x"
    routes: list[tuple[str, str, dict[str, Any], dict[str, int]]] = [
        # (method, path, data, expected status by side; "*" for any other side)
        ("GET", f"/cases/{case}/partners/new", {}, {"a": 200, "*": 404}),
        (
            "POST",
            f"/cases/{case}/partners",
            {
                "csrf_token": token,
                "organisation_id": world.c.id,
                "username": "nobody",
                "function": "pedagogue",
            },
            {"a": 422, "*": 404},
        ),
        ("GET", "/partner/cases", {}, {"*": 200}),
        ("GET", f"/partner/cases/{case}", {}, {"*": 404}),
        (
            "POST",
            f"/cases/{case}/team-notes",
            {"csrf_token": token, "text": "hello"},
            {"a": 303, "*": 404},
        ),
        ("POST", f"/partners/{member.id}/decline", {"csrf_token": token}, {"b": 303, "*": 404}),
        ("POST", f"/partners/{member.id}/approve", {"csrf_token": token}, {"b": 303, "*": 404}),
        ("POST", f"/partners/{member.id}/remove", {"csrf_token": token}, {"a": 303, "*": 404}),
    ]
    manages = role == "supervisor"
    works = role in ("supervisor", "outreach_worker")
    for method, path, data, expected in routes:
        response = client.get(path) if method == "GET" else client.post(path, data=data)
        for canary in (PSY, NOTE, SHARED_NAME, UNSHARED):
            assert canary not in response.text, (who, path)
        status = response.status_code
        needs_manage = "/partners" in path and "/partner/cases" not in path
        if (needs_manage and not manages) or (not needs_manage and not works):
            assert status == 403, (who, path, status)
            continue
        want = expected.get(side, expected["*"])
        if path.endswith("/team-notes") and side == "a" and role == "outreach_worker":
            want = 404  # not on the team: no need to know
        if path.endswith("/approve") and side == "b":
            want = 409  # already declined just before: "already answered", nothing changes
        assert status == want, (who, path, status)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(guess=st.one_of(st.text(max_size=40), st.from_regex(r"[0-9a-f]{32}", fullmatch=True)))
def test_guessed_ids_are_404(db: Session, client: TestClient, world: World, guess: str) -> None:
    if not hasattr(client, "_signed"):
        client._signed = sign_in(client, world.people["supervisor_c"])  # type: ignore[attr-defined]
    if not guess or any(c in guess for c in "/?#") or guess in (".", ".."):
        return
    token = client._signed  # type: ignore[attr-defined]
    from urllib.parse import quote

    part = quote(guess, safe="")
    assert client.get(f"/partner/cases/{part}").status_code in (404, 422)
    assert client.post(f"/partners/{part}/approve", data={"csrf_token": token}).status_code in (
        404,
        422,
    )
