"""Filling a stage's form from the case page: back to the case, the earlier filling kept."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases.models import Case
from intake.filling.models import Submission
from tests.conftest import login

from .flow import CONSENT_GIVEN, WOMAN, fill_pages, record_person, soup, submit


def _fill_from_case(client: TestClient, case: Case, form_key: str) -> str:
    page = soup(client.get(f"/cases/{case.id}").text)
    form = page.select_one(f".stage-forms li[data-form={form_key}] form")
    data = {i["name"]: i["value"] for i in form.find_all("input")}
    assert data["case_id"] == case.id
    started = client.post(form["action"], data=data)
    assert started.status_code == 303
    return str(started.headers["location"]).removeprefix("/fill/")


def test_a_form_filled_again_returns_to_the_case_and_keeps_the_first(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    login(client, worker.username)
    record_person(client, WOMAN)
    case = db.execute(select(Case)).scalar_one()
    client.cookies.clear()
    login(client, supervisor.username)
    client_id = _fill_from_case(client, case, "consent")
    fill_pages(client, client_id, CONSENT_GIVEN)
    done = submit(client, client_id)
    assert (done.status_code, done.headers["location"]) == (303, f"/cases/{case.id}")
    consents = db.execute(
        select(Submission.submitted_by_id).where(
            Submission.case_id == case.id, Submission.form_key == "consent"
        )
    ).scalars()
    assert list(consents) == [worker.id, supervisor.id]
    page = soup(client.get(f"/cases/{case.id}").text)
    kinds = [li["data-kind"] for li in page.select(".timeline li")]
    assert kinds.count("submission") == 3  # consent, intake form, consent again
    [filled] = [d for d in page.select("details.filled") if d["data-form"] == "consent"]
    assert "Filled 1 time before" in filled.get_text()
    label = page.select_one(".stage-forms li[data-form=consent] button.fill").get_text(" ")
    assert label.startswith("Fill in again")
