"""Consent that gates: what a person or another organisation observes when consent is
refused, given to one kind of recipient only, or withdrawn later from the case page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit.models import AuditEvent
from intake.cases import consent
from intake.cases.models import Case
from tests.conftest import csrf_from, login, make_user, page_token

from .flow import (
    CONSENT_GIVEN,
    CONSENT_SHARING,
    MEETING,
    SITUATION,
    fill_pages,
    give_consent,
    record_person,
    review,
    soup,
    submit,
)
from .helpers import assign, open_case, reload
from .helpers import submit as store

AT_A = {"given_name": "Ольга", "family_name": "Петрова", "birth_date": "1990-05-04"}
CANARY_NAMES = ("Ольга", "Петрова", "Olga", "Petrova")


def _at_b() -> dict[str, str]:
    age = dt.date.today().year - 1990 - 1
    return {"given_name": "Olga", "family_name": "Petrova", "age": str(age), "gender": "female"}


def _case_of(db: Session, owner: User) -> Case:
    db.expire_all()
    return db.execute(select(Case).where(Case.owner_id == owner.id)).scalar_one()


def _switch(client: TestClient, user: User) -> None:
    client.cookies.clear()
    login(client, user.username)


def _lookups(db: Session, actor: User) -> list[AuditEvent]:
    db.expire_all()
    return list(
        db.execute(
            select(AuditEvent)
            .where(AuditEvent.action == "overlap.lookup", AuditEvent.actor_id == actor.id)
            .order_by(AuditEvent.id)
        ).scalars()
    )


def _overlap_text(html: str) -> str:
    found = soup(html).select_one("#overlaps")
    return " ".join(found.get_text(" ").split()) if found else ""


def test_refused_sharing_hides_the_overlap_one_way_only_and_every_lookup_is_audited(
    db: Session, client: TestClient, org: Organisation, other_org: Organisation
) -> None:
    # Org A is an NGO, Org B a municipality. The person at A refused sharing; the
    # person at B agreed to sharing with NGOs and municipal social services.
    worker_a = make_user(db, org, "outreach_worker", "worker-a")
    worker_b = make_user(db, other_org, "outreach_worker", "worker-b")
    supervisor_b = make_user(db, other_org, "supervisor", "supervisor-b")
    login(client, worker_a.username)
    assert record_person(client, {**AT_A, "gender": "female"}, CONSENT_GIVEN).status_code == 303
    case_a = _case_of(db, worker_a)

    _switch(client, worker_b)
    intake_id = give_consent(client, CONSENT_SHARING).removeprefix("/fill/")
    fill_pages(client, intake_id, [MEETING, _at_b(), SITUATION])
    html, fields = review(client, intake_id)
    # B is not told that A assists this person: her consent does not allow it.
    assert html.select("#overlap-warning") == []
    assert "Org A" not in html.get_text(" ")
    [asked] = _lookups(db, worker_b)
    assert (asked.object_type, asked.detail) == ("intake", "shown=0 withheld=1")
    assert client.post(f"/fill/{intake_id}/submit", data=fields).status_code == 303
    case_b = _case_of(db, worker_b)

    # A is told of B's case: that person agreed to sharing with NGOs.
    _switch(client, worker_a)
    page = client.get(f"/cases/{case_a.id}")
    assert "exists at Org B" in _overlap_text(page.text)
    for leaked in (*CANARY_NAMES[2:], case_b.reference, case_b.id):
        assert leaked not in page.text
    # B's case page says nothing of A, to B's worker or supervisor.
    for user in (worker_b, supervisor_b):
        _switch(client, user)
        page = client.get(f"/cases/{case_b.id}")
        assert page.status_code == 200
        assert soup(page.text).select("#overlaps") == []
        assert "Org A" not in page.text and case_a.reference not in page.text

    # Every lookup names who asked, about which record; never who the person is.
    assert [(r.object_type, r.object_id) for r in _lookups(db, worker_a)][-1] == (
        "case",
        case_a.id,
    )
    assert _lookups(db, worker_a)[-1].detail == "shown=1 withheld=0"
    assert [(r.object_id, r.detail) for r in _lookups(db, supervisor_b)] == [
        (case_b.id, "shown=0 withheld=1")
    ]
    for row in db.execute(select(AuditEvent)).scalars():
        for canary in CANARY_NAMES:
            assert canary not in row.detail


def test_withdrawal_from_the_case_page_stops_sharing_at_once_and_shows_on_the_case(
    db: Session, client: TestClient, org: Organisation, other_org: Organisation
) -> None:
    worker_a = make_user(db, org, "outreach_worker", "worker-a")
    worker_b = make_user(db, other_org, "outreach_worker", "worker-b")
    login(client, worker_a.username)
    assert record_person(client, {**AT_A, "gender": "female"}, CONSENT_SHARING).status_code == 303
    case_a = _case_of(db, worker_a)
    _switch(client, worker_b)
    assert record_person(client, _at_b(), CONSENT_SHARING).status_code == 303
    case_b = _case_of(db, worker_b)
    assert "exists at Org A" in _overlap_text(client.get(f"/cases/{case_b.id}").text)

    # The person at A withdraws consent to sharing: a new consent filling from her case.
    _switch(client, worker_a)
    page = client.get(f"/cases/{case_a.id}")
    section = soup(page.text).select_one("#consent")
    assert "Information may be shared with" in section.get_text(" ")
    button = section.find("form", {"action": "/forms/consent/new"})
    posted = {i["name"]: i.get("value", "") for i in button.find_all("input")}
    started = client.post("/forms/consent/new", data=posted)
    assert started.status_code == 303
    client_id = started.headers["location"].removeprefix("/fill/")
    fill_pages(client, client_id, CONSENT_GIVEN)  # sharing: no
    assert submit(client, client_id).status_code == 303
    shown = soup(client.get(f"/cases/{case_a.id}").text).select_one("#consent").get_text(" ")
    assert "Consent withdrawn on" in shown and "do not use further" in shown
    assert "sharing with other organisations" in shown
    assert "Information may be shared with" not in shown

    # B's next look at its case no longer tells of A; A still sees B (B's consent stands).
    _switch(client, worker_b)
    assert _overlap_text(client.get(f"/cases/{case_b.id}").text) == ""
    _switch(client, worker_a)
    assert "exists at Org B" in _overlap_text(client.get(f"/cases/{case_a.id}").text)


def _consent(**changes: Any) -> dict[str, Any]:
    return {
        "consent_date": "2024-03-01",
        "consent_services": True,
        "consent_sharing": False,
        "consent_referral": True,
        "consent_return": "no",
        **changes,
    }


def test_safe_return_is_refused_without_the_return_consent_and_the_wish_to_return(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    store(db, case, "consent", worker, _consent())
    store(db, case, "psychological_assessment", worker, {})
    store(
        db, case, "safe_return_plan", worker, {"return_country": "latvia", "wants_to_return": False}
    )
    assign(db, supervisor, case, worker, "social_worker", "law_enforcement_liaison")
    case.state = "psychological_support"
    db.commit()

    login(client, supervisor.username)
    page = soup(client.get(f"/cases/{case.id}").text)
    blockers = page.select_one("#blocked-start_safe_return").get_text(" ")
    assert "Needs the person's consent to return" in blockers
    token = page_token(client, f"/cases/{case.id}")
    refused = client.post(
        f"/cases/{case.id}/transitions",
        data={
            "csrf_token": token,
            "trigger": "start_safe_return",
            "row_version": reload(db, case).row_version,
        },
    )
    assert refused.status_code in (409, 422)
    assert "Needs the person&#39;s consent to return" in refused.text or (
        "Needs the person's consent to return" in refused.text
    )
    assert reload(db, case).state == "psychological_support"

    # Consent alone is not enough while the person does not want to return ...
    store(db, case, "consent", worker, _consent(consent_return="yes"))
    page = soup(client.get(f"/cases/{case.id}").text)
    blockers = page.select_one("#blocked-start_safe_return").get_text(" ")
    assert "consent to return" not in blockers
    # ... and with both, the way opens.
    store(
        db, case, "safe_return_plan", worker, {"return_country": "latvia", "wants_to_return": True}
    )
    page = client.get(f"/cases/{case.id}")
    moved = client.post(
        f"/cases/{case.id}/transitions",
        data={
            "csrf_token": csrf_from(page.text),
            "trigger": "start_safe_return",
            "row_version": reload(db, case).row_version,
        },
    )
    assert moved.status_code in (200, 303)
    assert reload(db, case).state == "safe_return"


def test_may_share_reads_only_the_latest_consent(db: Session, worker: User) -> None:
    case = open_case(db, worker)
    assert not consent.may_share(db=db, case=case, purpose="services")  # none recorded
    store(db, case, "consent", worker, _consent(consent_sharing=True, sharing_with=["health"]))
    assert consent.may_share(db=db, case=case, purpose="sharing", recipient_kind="health")
    assert not consent.may_share(db=db, case=case, purpose="sharing", recipient_kind="police")
    assert not consent.may_share(db=db, case=case, purpose="sharing", recipient_kind=None)
    assert consent.may_share(db=db, case=case, purpose="referral")
    refused = consent.may_share(db=db, case=case, purpose="return")
    assert not refused and refused.reason == "Needs the person's consent to return"
    # A sealed or malformed answer is no consent.
    store(db, case, "consent", worker, _consent(consent_services="v1:sealed", consent_return="yes"))
    for purpose in consent.PURPOSES:
        assert not consent.may_share(db=db, case=case, purpose=purpose, recipient_kind="health")
