"""Services a step requires and the blocked reasons that name them; each blocked reason
names its form or answer; the dashboard counts services per type, month and track."""

from __future__ import annotations

import datetime as dt

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import stages
from intake.cases.service_records import ServiceRecord
from intake.config import PROJECT_ROOT
from intake.db import new_id, utcnow
from intake.definitions import service as definitions
from intake.workflow.services import shipped_catalogue
from tests.conftest import login, page_token

from .helpers import GIRL_16, assign, open_case, submit, today

STANDARD = (PROJECT_ROOT / "workflows" / "standard.yaml").read_text(encoding="utf-8")


def _publish_standard_requiring_sessions(db: Session, supervisor: User) -> None:
    text = STANDARD.replace("version: 1\n", "version: 2\n", 1).replace(
        "    requires_forms: [consent, first_contact, urgent_needs]\n",
        "    requires_forms: [consent, first_contact, urgent_needs]\n"
        "    requires_services: {psychological_session: 3}\n",
        1,
    )
    assert "requires_services" in text
    definitions.publish(db=db, kind="workflow", text=text, file="standard.yaml", actor=supervisor)
    db.commit()


def _give(
    db: Session,
    case_id: str,
    by: User,
    code: str,
    quantity: int,
    on: dt.date,
    track: str = "standard",
) -> None:
    db.add(
        ServiceRecord(
            case_id=case_id,
            organisation_id=by.organisation_id,
            track=track,
            service_type=code,
            delivered_on=on,
            quantity=quantity,
            unit=shipped_catalogue().types[code].unit,
            provided_by="organisation",
            recorded_by_id=by.id,
            client_id=new_id(),
        )
    )
    db.commit()


def _reasons(client: TestClient, case_id: str, trigger: str) -> list[str]:
    page = BeautifulSoup(client.get(f"/cases/{case_id}").text, "html.parser")
    form = page.select_one(f"form[data-trigger={trigger}]") or next(
        f
        for f in page.select("form")
        if f.select_one(f"input[name=trigger][value={trigger}]") is not None
    )
    return [li.get_text(" ", strip=True) for li in form.select(".blockers li")]


def test_a_step_requiring_sessions_says_how_many_more_until_they_are_given(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    _publish_standard_requiring_sessions(db, supervisor)
    case = open_case(db, worker)
    for key in ("consent", "first_contact", "urgent_needs"):
        submit(db, case, key, worker)
    assign(db, supervisor, case, worker, "social_worker")
    login(client, supervisor.username)
    assert any(
        "Needs 3 more psychological sessions" in r
        for r in _reasons(client, case.id, "move_to_housing")
    )
    # The reason leads to where services are recorded.
    page = BeautifulSoup(client.get(f"/cases/{case.id}").text, "html.parser")
    link = page.select_one("form[data-trigger=move_to_housing] .blockers a[href='#services']")
    assert link is not None and link.get_text(strip=True) == "Record services given"
    assert page.select_one("#services") is not None
    _give(db, case.id, worker, "psychological_session", 2, today())
    reasons = _reasons(client, case.id, "move_to_housing")
    assert any("Needs 1 more psychological session" in r for r in reasons), reasons
    assert not any("sessions" in r for r in reasons)
    # Firing it anyway is refused with the same words, and nothing moves.
    token = page_token(client, f"/cases/{case.id}")
    refused = client.post(
        f"/cases/{case.id}/transitions",
        data={"csrf_token": token, "trigger": "move_to_housing", "row_version": case.row_version},
    )
    assert refused.status_code == 422
    assert "Needs 1 more psychological session" in refused.text
    _give(db, case.id, worker, "psychological_session", 1, today())
    page = BeautifulSoup(client.get(f"/cases/{case.id}").text, "html.parser")
    step = page.select_one("form[data-trigger=move_to_housing]")
    assert step is not None and step.select_one("button[disabled]") is None
    token = page_token(client, f"/cases/{case.id}")
    moved = client.post(
        f"/cases/{case.id}/transitions",
        data={"csrf_token": token, "trigger": "move_to_housing", "row_version": case.row_version},
    )
    assert moved.status_code == 303


def test_every_blocked_reason_names_its_form_or_answer(
    db: Session, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker, GIRL_16)
    assert case.track == "young_girls"
    for key in ("consent", "first_contact", "urgent_needs", "guardian"):
        submit(db, case, key, worker)
    submit(db, case, "best_interests", worker, {"decision": "reassess"})
    [move] = [
        a
        for a in stages.actions_for(db=db, case=case, user=supervisor, today=today())
        if a.action.trigger == "move_to_specialised_housing"
    ]
    reasons = list(move.reasons)
    condition = next(r for r in reasons if "Not yet: assess again" in r)
    # The explanation, the form whose answers decide it, and where to fill it in again.
    assert "Best-interests assessment" in condition
    assert getattr(condition, "forms", ()) == ("best_interests",)
    assert getattr(condition, "href", None) == "#stage-form-best_interests"
    team = next(r for r in reasons if "social worker" in r)
    assert team
    [missing] = [
        a
        for a in stages.actions_for(
            db=db, case=open_case(db, worker, GIRL_16), user=supervisor, today=today()
        )
        if a.action.trigger == "move_to_specialised_housing"
    ]
    forms = [r for r in missing.reasons if r.startswith("Needs:")]
    assert forms and all(getattr(r, "href", "").startswith("#stage-form-") for r in forms)


def test_the_dashboard_counts_services_per_type_month_and_track(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    adult = open_case(db, worker)
    girl = open_case(db, worker, GIRL_16)
    now = utcnow().date()
    last_month = (now.replace(day=1) - dt.timedelta(days=1)).replace(day=10)
    _give(db, adult.id, worker, "meal", 3, now)
    _give(db, adult.id, worker, "meal", 2, last_month)
    _give(db, girl.id, worker, "meal", 1, now, track="young_girls")
    _give(db, girl.id, worker, "psychological_session", 1, now)
    login(client, supervisor.username)
    page = BeautifulSoup(client.get("/dashboard").text, "html.parser")

    def row(table: str, key: str, value: str) -> list[str]:
        found = page.select_one(f"#{table} tr[data-{key}='{value}']")
        assert found is not None, (table, value)
        return [cell.get_text(strip=True) for cell in found.select("th, td")]

    assert row("services-by-type", "service", "meal") == [
        "Meal or food package",
        "6 meals",
        "3",
        "2",
    ]
    assert row("services-by-type", "service", "psychological_session")[1:] == [
        "1 session",
        "1",
        "1",
    ]
    assert row("services-by-month", "month", now.isoformat()[:7])[1:] == ["3", "2"]
    assert row("services-by-month", "month", last_month.isoformat()[:7])[1:] == ["1", "1"]
    assert row("services-by-track", "track", "standard")[1:] == ["3", "2"]
    assert row("services-by-track", "track", "young_girls")[1:] == ["1", "1"]
    # The bars repeat the table: one bar per type, each with its number.
    bars = page.select("[data-chart=services-types] rect[data-value]")
    assert sorted(b["data-value"] for b in bars) == ["1", "1", "2", "3"]
