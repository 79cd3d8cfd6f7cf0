"""Services delivered: recorded from the case page (one or several at once), refused when
wrong, scoped like every case action, shown in the timeline, sealed notes."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases.service_records import ServiceRecord
from intake.db import utcnow
from intake.referrals.models import Referral
from tests.conftest import login, make_user, page_token

from .helpers import assign, audit_rows, open_case

TODAY = utcnow().date()


def client_id() -> str:
    return secrets.token_urlsafe(18)


def form(
    token: str,
    items: dict[str, str],
    *,
    cid: str | None = None,
    on: dt.date = TODAY,
    by: str = "organisation",
    note: str = "",
) -> dict[str, object]:
    """The post the case page's form makes: every service with its quantity box."""
    return {
        "csrf_token": token,
        "client_id": cid or client_id(),
        "service": list(items),
        "quantity": list(items.values()),
        "delivered_on": on.isoformat(),
        "provided_by": by,
        "note": note,
    }


def records(db: Session, case_id: str) -> list[ServiceRecord]:
    db.expire_all()
    return list(
        db.execute(
            select(ServiceRecord)
            .where(ServiceRecord.case_id == case_id)
            .order_by(ServiceRecord.service_type)
        ).scalars()
    )


@pytest.fixture
def team_worker(db: Session, org: Organisation, supervisor: User, worker: User) -> User:
    member = make_user(db, org, "outreach_worker", "team-member")
    return member


def _case_with_team(db: Session, worker: User, supervisor: User, member: User) -> object:
    case = open_case(db, worker)
    assign(db, supervisor, case, member, "social_worker")
    return case


def test_a_team_member_records_three_meals_and_a_hygiene_kit_in_one_post(
    db: Session, client: TestClient, worker: User, supervisor: User, team_worker: User
) -> None:
    case = _case_with_team(db, worker, supervisor, team_worker)
    login(client, team_worker.username)
    page = client.get(f"/cases/{case.id}")
    soup = BeautifulSoup(page.text, "html.parser")
    section = soup.find(id="services")
    assert section is not None
    boxes = section.select("input[name=quantity]")
    assert len(boxes) >= 14  # every service type of the catalogue, one box each
    token = page_token(client, f"/cases/{case.id}")
    answer = client.post(
        f"/cases/{case.id}/services",
        data=form(token, {"meal": "3", "hygiene_kit": "1", "clothing": ""}, note="sleeps at X"),
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/cases/{case.id}#services"
    rows = records(db, case.id)
    assert [(r.service_type, r.quantity, r.unit) for r in rows] == [
        ("hygiene_kit", 1, "package"),
        ("meal", 3, "meal"),
    ]
    assert {r.delivered_on for r in rows} == {TODAY}
    assert {r.recorded_by_id for r in rows} == {team_worker.id}
    assert {r.track for r in rows} == {case.track}
    # The note is sealed at rest, bound to each record.
    assert all(r.sealed_note and "sleeps" not in r.sealed_note for r in rows)
    [audit] = audit_rows(db, case.id, "case.services_recorded")
    assert audit.detail == "hygiene_kit=1 meal=3"
    shown = BeautifulSoup(client.get(f"/cases/{case.id}").text, "html.parser")
    totals = [li.get_text(" ", strip=True) for li in shown.select(".service-totals li")]
    assert totals == ["Meal or food package 3 meals", "Hygiene kit 1 package"]
    timeline = [li.get_text(" ", strip=True) for li in shown.select("li[data-kind=service]")]
    assert len(timeline) == 2
    assert any("Meal or food package, 3 meals" in text for text in timeline)
    assert shown.select_one("#services .note").get_text() == "sleeps at X"


def test_one_service_given_by_a_team_member_on_an_earlier_day(
    db: Session, client: TestClient, worker: User, supervisor: User, team_worker: User
) -> None:
    case = _case_with_team(db, worker, supervisor, team_worker)
    login(client, supervisor.username)
    token = page_token(client, f"/cases/{case.id}")
    day = TODAY - dt.timedelta(days=3)
    answer = client.post(
        f"/cases/{case.id}/services",
        data=form(
            token, {"psychological_session": "1"}, on=day, by=f"team_member:{team_worker.id}"
        ),
    )
    assert answer.status_code == 303
    [row] = records(db, case.id)
    assert (row.service_type, row.delivered_on, row.provided_by, row.provider_user_id) == (
        "psychological_session",
        day,
        "team_member",
        team_worker.id,
    )
    assert row.sealed_note is None


def test_a_double_tap_records_once_and_a_changed_retry_is_a_conflict(
    db: Session, client: TestClient, worker: User, supervisor: User, team_worker: User
) -> None:
    case = _case_with_team(db, worker, supervisor, team_worker)
    login(client, team_worker.username)
    token = page_token(client, f"/cases/{case.id}")
    cid = client_id()
    for _tap in range(2):
        answer = client.post(f"/cases/{case.id}/services", data=form(token, {"meal": "2"}, cid=cid))
        assert answer.status_code == 303
    assert [(r.service_type, r.quantity) for r in records(db, case.id)] == [("meal", 2)]
    changed = client.post(f"/cases/{case.id}/services", data=form(token, {"meal": "5"}, cid=cid))
    assert changed.status_code == 409
    assert "already recorded with other values" in changed.text
    assert [(r.service_type, r.quantity) for r in records(db, case.id)] == [("meal", 2)]


@pytest.mark.parametrize(
    ("items", "extra", "message"),
    [
        ({"meal": "abc"}, {}, "Write how many as a whole number"),
        ({"meal": "0"}, {}, "A quantity must be between 1 and 100,000."),
        ({"meal": "100001"}, {}, "A quantity must be between 1 and 100,000."),
        ({"meal": ""}, {}, "Write how many of at least one service."),
        ({"champagne": "2"}, {}, "Choose a service from the list."),
        ({"meal": "1"}, {"on": TODAY + dt.timedelta(days=1)}, "The date cannot be in the future."),
        (
            {"meal": "1"},
            {"on": TODAY - dt.timedelta(days=400)},
            "The date is more than a year ago.",
        ),
        ({"meal": "1"}, {"by": "team_member:" + "a" * 32}, "Choose who gave the services"),
        ({"meal": "1"}, {"by": "the neighbours"}, "Choose who gave the services"),
        ({"meal": "1"}, {"note": "x" * 2001}, "A note may have at most 2,000 characters."),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(
    db: Session,
    client: TestClient,
    worker: User,
    supervisor: User,
    team_worker: User,
    items: dict[str, str],
    extra: dict[str, object],
    message: str,
) -> None:
    case = _case_with_team(db, worker, supervisor, team_worker)
    login(client, team_worker.username)
    token = page_token(client, f"/cases/{case.id}")
    answer = client.post(f"/cases/{case.id}/services", data=form(token, items, **extra))  # type: ignore[arg-type]
    assert answer.status_code == 422
    errors = BeautifulSoup(answer.text, "html.parser").get_text(" ", strip=True)
    assert message in errors
    assert records(db, case.id) == []
    assert [a.outcome for a in audit_rows(db, case.id, "case.services_recorded")] == ["refused"]


def test_any_text_in_any_field_is_refused_or_recorded_never_a_500(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    login(client, supervisor.username)
    token = page_token(client, f"/cases/{case.id}")

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(quantity=st.text(max_size=12), day=st.text(max_size=14), by=st.text(max_size=40))
    def post(quantity: str, day: str, by: str) -> None:
        data = form(token, {"meal": quantity})
        data.update(delivered_on=day, provided_by=by)
        answer = client.post(f"/cases/{case.id}/services", data=data)
        assert answer.status_code in (303, 422), answer.status_code
        saved = records(db, case.id)
        if answer.status_code == 303:
            assert by == "organisation"
            assert [(r.service_type, r.quantity) for r in saved] == [("meal", int(quantity))]
            db.execute(ServiceRecord.__table__.delete().where(ServiceRecord.case_id == case.id))
            db.commit()
        else:
            assert saved == []

    post()


# --- who may record ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("owner", 403),  # sees the case, is not on its team: no need to know
        ("team_worker", 303),
        ("other_worker", 404),
        ("supervisor", 303),
        ("other_supervisor", 404),
        ("admin", 403),
    ],
)
def test_who_may_record_services(
    db: Session,
    client: TestClient,
    org: Organisation,
    other_org: Organisation,
    role: str,
    expected: int,
) -> None:
    owner = make_user(db, org, "outreach_worker", "owner")
    supervisor = make_user(db, org, "supervisor", "supervisor")
    people = {
        "owner": owner,
        "team_worker": make_user(db, org, "outreach_worker", "team-worker"),
        "other_worker": make_user(db, org, "outreach_worker", "other-worker"),
        "supervisor": supervisor,
        "other_supervisor": make_user(db, other_org, "supervisor", "other-supervisor"),
        "admin": make_user(db, org, "admin", "admin"),
    }
    case = open_case(db, owner)
    assign(db, supervisor, case, people["team_worker"], "social_worker")
    login(client, people[role].username)
    token = page_token(client, "/")
    answer = client.post(f"/cases/{case.id}/services", data=form(token, {"meal": "1"}))
    assert answer.status_code == expected
    assert len(records(db, case.id)) == (1 if expected == 303 else 0)
    if expected == 404:
        probes = [a for a in audit_rows(db, case.id) if a.detail == "not_found"]
        assert [p.action for p in probes] == ["case.services_recorded"]


def test_an_organisation_that_took_a_referral_is_named_as_provider(
    db: Session,
    client: TestClient,
    worker: User,
    supervisor: User,
    other_org: Organisation,
) -> None:
    case = open_case(db, worker)
    login(client, supervisor.username)
    value = f"referred_organisation:{other_org.id}"

    def options() -> dict[str, str]:
        page = BeautifulSoup(client.get(f"/cases/{case.id}").text, "html.parser")
        return {o["value"]: o.get_text() for o in page.select("#services-provider option")}

    # No referral: no other organisation is named, nor may it be posted.
    assert value not in options()
    assert other_org.name not in client.get(f"/cases/{case.id}").text
    token = page_token(client, f"/cases/{case.id}")
    refused = client.post(
        f"/cases/{case.id}/services", data=form(token, {"legal_consultation": "1"}, by=value)
    )
    assert refused.status_code == 422
    db.add(
        Referral(
            case_id=case.id,
            from_organisation_id=case.organisation_id,
            to_organisation_id=other_org.id,
            service="legal",
            status="accepted",
            created_by_id=supervisor.id,
        )
    )
    db.commit()
    assert other_org.name in options()[value]
    token = page_token(client, f"/cases/{case.id}")
    assert (
        client.post(
            f"/cases/{case.id}/services", data=form(token, {"legal_consultation": "1"}, by=value)
        ).status_code
        == 303
    )
    [row] = records(db, case.id)
    assert row.provider_organisation_id == other_org.id
    shown = BeautifulSoup(client.get(f"/cases/{case.id}").text, "html.parser")
    assert f"given by {other_org.name}" in shown.select_one(".service-records").get_text(" ")


def test_a_closed_case_takes_no_more_services(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    case.closed_at = utcnow()
    db.commit()
    login(client, supervisor.username)
    page = BeautifulSoup(client.get(f"/cases/{case.id}").text, "html.parser")
    assert page.select("#services form") == []
    token = page_token(client, f"/cases/{case.id}")
    answer = client.post(f"/cases/{case.id}/services", data=form(token, {"meal": "1"}))
    assert answer.status_code == 422
    assert records(db, case.id) == []
