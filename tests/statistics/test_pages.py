"""The statistics page and the reporting agreements page, as a person sees them."""

from __future__ import annotations

import datetime as dt

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts import service as accounts
from intake.accounts.models import Organisation, User
from intake.audit.models import AuditEvent
from intake.statistics.models import ReportingAgreement
from tests.conftest import login, make_user, page_token

from .helpers import MARKER, agree, cases

YEAR = dt.datetime(2025, 5, 2, 9, tzinfo=dt.UTC)


def _row(soup: BeautifulSoup, section: str, code: str) -> str:
    cell = soup.select_one(f"#stat-{section} tr[data-code='{code}'] td")
    assert cell is not None, (section, code)
    return cell.get_text(strip=True)


def test_the_coordinator_page_hides_a_small_group_in_chart_and_table(
    client: TestClient, db: Session, body: Organisation, coordinator: User, org: Organisation
) -> None:
    worker = make_user(db, org, "outreach_worker")
    cases(db, worker, 14, YEAR, gender="female")
    cases(db, worker, 2, YEAR, gender="male")
    agree(db, body, org)
    login(client, coordinator.username)
    page = client.get("/statistics")
    assert page.status_code == 200
    assert MARKER not in page.text
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.select_one("#cases-total").get_text(strip=True) == "16"
    assert _row(soup, "gender", "male") == "< 11"
    assert _row(soup, "gender", "female") == "hidden"
    chart = soup.select("[data-chart='stat-gender'] rect")
    assert {rect["data-value"] for rect in chart} == {"hidden"}
    assert soup.select_one("#stat-track tfoot td").get_text(strip=True) == "16"
    nav = [a["href"] for a in soup.select("nav a")]
    assert "/statistics" in nav and "/cases" not in nav and "/dashboard" not in nav
    year = client.get("/statistics", params={"year": "2025"})
    assert year.status_code == 200
    selected = BeautifulSoup(year.text, "html.parser").select_one("#stat-year option[selected]")
    assert selected is not None and selected["value"] == "2025"


def test_a_bad_year_gets_a_message_and_the_figures_of_all_years(
    client: TestClient, db: Session, body: Organisation, coordinator: User, org: Organisation
) -> None:
    agree(db, body, org)
    login(client, coordinator.username)
    for bad in ("1800", "x' or 1=1", "２０２５", "9" * 19):
        page = client.get("/statistics", params={"year": bad})
        assert page.status_code == 422
        soup = BeautifulSoup(page.text, "html.parser")
        assert "Choose a year from the list." in soup.select_one("#form-errors").get_text()


def test_the_installation_administrator_records_and_ends_agreements(
    client: TestClient, db: Session, body: Organisation, coordinator: User, org: Organisation
) -> None:
    operators = accounts.get_or_create_organisation(db=db, name="Operators")
    installer = make_user(db, operators, "installation_admin", "installer")
    cases(db, make_user(db, org, "outreach_worker"), 11, YEAR)
    login(client, installer.username)
    token = page_token(client, "/admin/reporting")
    refused = client.post(
        "/admin/reporting",
        data={"csrf_token": token, "coordinator_id": org.id, "reporting_id": org.id},
    )
    assert refused.status_code == 422
    assert "Choose a coordinating body." in refused.text
    made = client.post(
        "/admin/reporting",
        data={"csrf_token": token, "coordinator_id": body.id, "reporting_id": org.id},
    )
    assert made.status_code == 200 and "The agreement is recorded." in made.text
    twice = client.post(
        "/admin/reporting",
        data={"csrf_token": token, "coordinator_id": body.id, "reporting_id": org.id},
    )
    assert twice.status_code == 422
    row = db.execute(select(ReportingAgreement)).scalar_one()
    assert (row.coordinator_id, row.reporting_id) == (body.id, org.id)
    assert (
        client.post(f"/admin/reporting/{'0' * 32}/end", data={"csrf_token": token}).status_code
        == 404
    )
    ended = client.post(f"/admin/reporting/{row.id}/end", data={"csrf_token": token})
    assert ended.status_code == 200
    db.expire_all()
    assert db.execute(select(ReportingAgreement)).first() is None
    actions = db.execute(
        select(AuditEvent.action).where(AuditEvent.actor_id == installer.id)
    ).scalars()
    assert {"reporting.agreed", "reporting.ended"} <= set(actions)


def test_an_organisation_administrator_cannot_record_agreements(
    client: TestClient, db: Session, body: Organisation, admin: User, org: Organisation
) -> None:
    login(client, admin.username)
    token = page_token(client, "/")
    assert client.get("/admin/reporting").status_code == 403
    response = client.post(
        "/admin/reporting",
        data={"csrf_token": token, "coordinator_id": body.id, "reporting_id": org.id},
    )
    assert response.status_code == 403
    assert db.execute(select(ReportingAgreement)).first() is None


def test_a_coordinating_bodys_administrator_adds_coordinators_only(
    client: TestClient, db: Session, body: Organisation
) -> None:
    body_admin = make_user(db, body, "admin", "body-admin")
    login(client, body_admin.username)
    page = BeautifulSoup(client.get("/admin/users").text, "html.parser")
    roles = {option["value"] for option in page.select("select[name=role] option")}
    assert roles == {"coordinator", "admin"}
