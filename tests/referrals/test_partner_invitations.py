"""Partner invitations: the answer never tells whether a user name exists at the other
organisation, and a second answer to an invitation is "already answered", changing nothing.

Runs on both databases.
"""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.audit.models import AuditEvent
from intake.cases.models import CaseTeamMember
from intake.referrals.models import PartnerMember
from tests.referrals.helpers import World, sign_in
from tests.referrals.test_partners import invite, member_of

# Who a user name belongs to: eligible at Org B, ineligible there (an administrator does not
# work on cases), a person of another organisation, the installation's administrator.
ELIGIBLE = ("outreach_worker_b", "supervisor2_b")
CSRF = re.compile(r'(name="csrf_token" value="|"X-CSRF-Token": ")[^"]*')
INELIGIBLE = ("admin_b", "outreach_worker_c", "supervisor_c", "installation_admin", "supervisor_a")


def _seen(client: TestClient, response: Any) -> tuple[int, str, str]:
    """What the inviter observes: status, where it leads, and that page without the CSRF token."""
    location = response.headers.get("location", "")
    page = client.get(location) if location else response
    return response.status_code, location, CSRF.sub(r"\1", page.text)


def _refusals(db: Session, code: str) -> int:
    db.expire_all()
    return db.execute(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "partner.invited",
            AuditEvent.outcome == "refused",
            AuditEvent.detail == code,
        )
    ).scalar_one()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.one_of(
        st.sampled_from(ELIGIBLE + INELIGIBLE).map(lambda key: ("person", key)),
        st.text(max_size=60).map(lambda text: ("text", text)),
    )
)
def test_the_answer_never_tells_whether_the_name_exists(
    db: Session, client: TestClient, world: World, name: tuple[str, str]
) -> None:
    p = world.people
    if not hasattr(client, "_reference"):
        token = sign_in(client, p["supervisor_a"])
        reference = _seen(client, invite(client, token, world.case, world.b.id, "no-one"))
        client._reference = (token, reference)  # type: ignore[attr-defined]
    token, reference = client._reference  # type: ignore[attr-defined]
    kind, value = name
    username = p[value].username if kind == "person" else value
    eligible = kind == "person" and value in ELIGIBLE
    before = _refusals(db, "person") + _refusals(db, "duplicate")

    seen = _seen(client, invite(client, token, world.case, world.b.id, username))

    assert seen == reference, username
    db.expire_all()
    invitees = {m.user_id for m in db.execute(select(PartnerMember)).scalars()}
    assert invitees <= {p[key].id for key in ELIGIBLE}
    if eligible:
        assert p[value].id in invitees
    else:
        # Nothing stored for it, and the attempt is in the audit trail.
        assert _refusals(db, "person") + _refusals(db, "duplicate") == before + 1


def test_the_reply_page_says_what_happens_and_the_case_page_shows_no_pending_name(
    db: Session, client: TestClient, world: World
) -> None:
    p = world.people
    token = sign_in(client, p["supervisor_a"])
    response = invite(client, token, world.case, world.b.id, p["outreach_worker_b"].username)
    assert response.status_code == 303
    page = BeautifulSoup(client.get(response.headers["location"]).text, "html.parser")
    notice = page.select_one("#invitation-sent")
    assert notice is not None and "supervisor has been asked to approve" in notice.get_text()
    case_page = BeautifulSoup(client.get(f"/cases/{world.case.id}").text, "html.parser")
    partners = case_page.select_one("#partners")
    assert partners is not None and not partners.select("[data-partner]")
    member = member_of(db, world.case)
    # Once their supervisor approves, the partner is on the case page.
    token = sign_in(client, p["supervisor_b"])
    client.post(f"/partners/{member.id}/approve", data={"csrf_token": token})
    sign_in(client, p["supervisor_a"])
    shown = BeautifulSoup(client.get(f"/cases/{world.case.id}").text, "html.parser")
    assert shown.select_one(f'[data-partner="{member.id}"][data-status="approved"]') is not None


def _team_rows(db: Session, world: World) -> int:
    db.expire_all()
    return db.execute(
        select(func.count())
        .select_from(CaseTeamMember)
        .where(
            CaseTeamMember.case_id == world.case.id,
            CaseTeamMember.user_id == world.people["outreach_worker_b"].id,
        )
    ).scalar_one()


def test_a_second_answer_is_already_answered_and_changes_nothing(
    db: Session, client: TestClient, world: World
) -> None:
    p = world.people
    token = sign_in(client, p["supervisor_a"])
    invite(client, token, world.case, world.b.id, p["outreach_worker_b"].username)
    member = member_of(db, world.case)
    # Two supervisors of Org B both have the invitation in front of them.
    first = sign_in(client, p["supervisor_b"])
    assert (
        client.post(f"/partners/{member.id}/approve", data={"csrf_token": first}).status_code == 303
    )
    answered_at = member_of(db, world.case).answered_at
    second = sign_in(client, p["supervisor2_b"])
    for verb in ("decline", "approve"):
        late = client.post(f"/partners/{member.id}/{verb}", data={"csrf_token": second})
        assert late.status_code == 409, verb
        errors = BeautifulSoup(late.text, "html.parser").select_one("#form-errors")
        assert errors is not None and "already answered" in errors.get_text(), verb
        after = member_of(db, world.case)
        assert after.status == "approved" and after.answered_at == answered_at
        assert after.answered_by_id == p["supervisor_b"].id
        assert _team_rows(db, world) == 1
    db.expire_all()
    late_audit = db.execute(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.outcome == "refused", AuditEvent.detail == "already_answered")
        .where(AuditEvent.action.in_(("partner.approved", "partner.declined")))
    ).scalar_one()
    assert late_audit == 2
