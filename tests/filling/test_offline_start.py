"""A new intake started on a phone without a connection: the blank pages it keeps (and
when it must fetch them again), and the sealed pair it sends later, which opens exactly
one case through the same steps as online, whatever is resent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases.models import Case, Intake
from intake.definitions import service as definitions
from intake.filling.models import FormDraft, Submission
from intake.filling.service import submission_answers
from tests.cases.flow import CONSENT_GIVEN, MEETING, SITUATION, WOMAN, soup
from tests.conftest import login, make_user, page_token
from tests.filling.sealing_helper import seal_for_tests
from tests.filling.test_offline_records import as_pairs, server_key

CONSENT_ID = "7f0c3a52-1d7e-4c55-9a0b-5d3f1e2a9c01"
INTAKE_ID = "0b9e8d44-6c1f-4f7a-8e21-3a5b7c9d1e02"
CONSENT = as_pairs(CONSENT_GIVEN)
FIRST_CONTACT = as_pairs([MEETING, WOMAN, SITUATION])
REFUSED = as_pairs([CONSENT_GIVEN[0], {**CONSENT_GIVEN[1], "consent_services": "no"}])


@pytest.fixture(autouse=True)
def published(db: Session) -> None:
    definitions.sync_files(db=db)


def count(db: Session, model: Any) -> int:
    db.expire_all()
    return db.execute(select(func.count()).select_from(model)).scalar_one()


def pair(
    client: TestClient,
    user: User,
    consent: list[list[str]] = CONSENT,
    intake: list[list[str]] | None = FIRST_CONTACT,
    intake_id: str = INTAKE_ID,
    **extra: Any,
) -> Any:
    """A new intake sealed as the phone's offline-store.js seals it."""
    payload = {
        "client_id": CONSENT_ID,
        "owner": user.id,
        "answers": consent,
        "language": "en",
        "intake": {"client_id": intake_id, "answers": intake} if intake is not None else None,
        **extra,
    }
    return seal_for_tests(public_key=server_key(client), payload=payload)


def send(client: TestClient, record: Any) -> Any:
    return client.post(
        "/offline/intake/records",
        content=json.dumps(record),
        headers={"X-CSRF-Token": page_token(client), "Content-Type": "application/json"},
    )


# --- the pages the phone keeps ---------------------------------------------------------


def test_a_worker_is_given_the_start_pages_and_a_version_that_follows_them(
    client, worker, db, admin
) -> None:
    login(client, worker.username)
    listed = client.get("/offline/intake")
    assert listed.status_code == 200
    assert listed.headers["cache-control"] == "no-store"
    body = listed.json()
    assert body["pages"] == ["/offline/intake/consent", "/offline/intake/first_contact"]
    assert client.get("/offline/intake").json()["version"] == body["version"]
    # A new version of the consent form is published: the phone must fetch the pages again.
    text = (Path("forms") / "consent.yaml").read_text(encoding="utf-8")
    definitions.publish(
        db=db, kind="form", text=text, file="consent.yaml", actor=admin, allow_unchanged=True
    )
    db.commit()
    assert client.get("/offline/intake").json()["version"] != body["version"]


def test_someone_who_may_not_start_an_intake_keeps_nothing(client, admin) -> None:
    login(client, admin.username)
    for url in ("/offline/intake", "/offline/intake/consent", "/offline/intake/first_contact"):
        assert client.get(url).status_code in (403, 404), url


def test_the_start_pages_are_blank_and_chain_consent_to_the_intake_form(client, worker) -> None:
    login(client, worker.username)
    consent = soup(client.get("/offline/intake/consent").text)
    form = consent.select_one("form[data-offline-form]")
    assert form is not None
    meta = json.loads(str(form["data-meta"]))
    assert meta["form_key"] == "consent" and meta["owner"] == worker.id
    assert meta["start"] == {
        "step": "consent",
        "page": "/offline/intake/consent",
        "next": "/offline/intake/first_contact",
        "gate": "consent_services",
    }
    assert consent.select_one("[name=consent_services]") is not None
    # Blank: nothing typed or chosen rides in a kept page.
    assert not consent.select("input[checked]")
    assert all(not i.get("value") for i in consent.select("input[type=text], input[type=date]"))
    assert consent.select_one("[data-offline=finish]").get_text(strip=True) == "Go on"

    first = soup(client.get("/offline/intake/first_contact").text)
    meta = json.loads(str(first.select_one("form[data-offline-form]")["data-meta"]))
    assert meta["form_key"] == "first_contact"
    assert meta["start"] == {
        "step": "first_contact",
        "page": "/offline/intake/first_contact",
        "back": "/offline/intake/consent",
    }
    assert first.select_one("[name=given_name]") is not None
    assert first.select_one("[data-offline=finish]").get_text(strip=True) == "Put in the outbox"


def test_an_unknown_step_is_404(client, worker) -> None:
    login(client, worker.username)
    for step in ("records", "urgent_needs", "x" * 19, "конcент"):
        assert client.get(f"/offline/intake/{step}").status_code == 404, step


# --- the sealed intake -----------------------------------------------------------------


def test_a_sealed_intake_opens_one_case_as_online_and_a_resend_gets_the_same(
    client, worker, db, settings
) -> None:
    login(client, worker.username)
    record = pair(client, worker)
    first = send(client, record)
    assert first.status_code == 200, first.text
    case = db.execute(select(Case)).scalar_one()
    assert first.json() == {"state": "submitted", "url": f"/cases/{case.id}", "message": ""}
    again = send(client, record)
    assert again.status_code == 200 and again.json() == first.json()
    assert count(db, Case) == 1 and count(db, Submission) == 2 and count(db, FormDraft) == 0
    intake = db.execute(select(Intake)).scalar_one()
    assert (intake.consent_client_id, intake.intake_client_id) == (CONSENT_ID, INTAKE_ID)
    assert intake.case_id == case.id and intake.owner_id == worker.id
    stored = db.execute(select(Submission).where(Submission.client_id == INTAKE_ID)).scalar_one()
    assert stored.case_id == case.id and stored.sealed_with == record["kid"]
    answers = submission_answers(db=db, settings=settings, submission=stored)
    assert answers["given_name"] == "Ona" and answers["safety_risk"] == "low"
    assert "Ona" not in json.dumps(stored.answers)  # sensitive: encrypted at rest
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200


def test_a_changed_resend_is_a_conflict_and_changes_nothing(client, worker, db, settings) -> None:
    login(client, worker.username)
    assert send(client, pair(client, worker)).status_code == 200
    other = [[k, "Kita" if k == "given_name" else v] for k, v in FIRST_CONTACT]
    refused = send(client, pair(client, worker, intake=other))
    assert refused.status_code == 409
    assert "different answers" in refused.json()["message"]
    moved = send(client, pair(client, worker, intake_id="a" * 32))
    assert moved.status_code == 409
    assert count(db, Case) == 1 and count(db, Submission) == 2
    stored = db.execute(select(Submission).where(Submission.client_id == INTAKE_ID)).scalar_one()
    assert submission_answers(db=db, settings=settings, submission=stored)["given_name"] == "Ona"


def test_a_refused_consent_is_recorded_and_starts_no_intake_form(client, worker, db) -> None:
    login(client, worker.username)
    answer = send(client, pair(client, worker, consent=REFUSED, intake=None))
    assert answer.status_code == 200, answer.text
    intake = db.execute(select(Intake)).scalar_one()
    assert answer.json()["url"] == f"/intake/{intake.id}"
    assert count(db, Case) == 0 and count(db, FormDraft) == 0 and count(db, Submission) == 1
    page = soup(client.get(f"/intake/{intake.id}").text)
    assert page.select_one("main") is not None
    # Answers for an intake form with a refused consent never make a case either.
    again = send(client, pair(client, worker, consent=REFUSED))
    assert again.status_code in (200, 409)
    assert count(db, Case) == 0 and count(db, FormDraft) == 0


def test_an_intake_needing_attention_waits_online_and_makes_no_case(client, worker, db) -> None:
    login(client, worker.username)
    missing = [[k, v] for k, v in FIRST_CONTACT if k != "contact_date"]
    answer = send(client, pair(client, worker, intake=missing))
    assert answer.status_code == 422
    assert answer.json()["url"] == f"/fill/{INTAKE_ID}"
    assert count(db, Case) == 0
    # The worker opens it online and finds the consent given and the intake form waiting.
    assert client.get(f"/fill/{INTAKE_ID}").status_code == 200


def test_another_workers_intake_is_not_found_and_changes_nothing(client, worker, db, org) -> None:
    other = make_user(db, org, "outreach_worker", "other.worker")
    login(client, worker.username)
    answer = send(client, pair(client, other))
    assert answer.status_code == 404
    assert count(db, Intake) == 0 and count(db, FormDraft) == 0


@pytest.mark.parametrize(
    "intake",
    [
        "x",
        ["x"],
        {"client_id": "short"},
        {"client_id": CONSENT_ID, "answers": []},
        {"client_id": INTAKE_ID, "answers": "x"},
        {"client_id": INTAKE_ID, "answers": [[1, 2]]},
    ],
)
def test_a_broken_intake_is_refused_and_saves_nothing(client, worker, db, intake) -> None:
    login(client, worker.username)
    payload = {"client_id": CONSENT_ID, "owner": worker.id, "answers": CONSENT, "intake": intake}
    answer = send(client, seal_for_tests(public_key=server_key(client), payload=payload))
    assert answer.status_code in (400, 404), answer.text
    assert answer.json()["state"] in ("broken", "unknown")
    assert count(db, Case) == 0


@examples(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    language=st.one_of(st.none(), st.text(max_size=30), st.integers()),
    value=st.text(max_size=40),
)
def test_hostile_answers_and_languages_never_fail_or_make_a_case_twice(
    client, worker, db, language, value
) -> None:
    if not client.cookies:  # the examples share the client: signed in once
        login(client, worker.username)
    answers = [[k, value if k == "given_name" else v] for k, v in FIRST_CONTACT]
    answer = send(client, pair(client, worker, intake=answers, language=language))
    assert answer.status_code in (200, 400, 409, 422), answer.text
    assert count(db, Case) <= 1
