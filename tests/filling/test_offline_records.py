"""Sealed records from a phone's outbox: opened only here, submitted once, never anyone
else's, never overwritten; an intake sent from the outbox opens exactly one case."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases.models import Case
from intake.definitions import service as definitions
from intake.filling import sealing
from intake.filling.models import FormDraft, SealingKey, Submission
from intake.filling.service import submission_answers
from tests.cases.flow import (
    CONSENT_GIVEN,
    MEETING,
    SITUATION,
    WOMAN,
    fill_pages,
    give_consent,
    soup,
)
from tests.cases.flow import submit as submit_online
from tests.conftest import login, make_user, page_token
from tests.filling.sealing_helper import seal_for_tests
from tests.forms.test_views import start

CANARY = "Zyxwvu-canary"
PAIRS = [
    ["contact_date", "2024-03-01"],
    ["where_met", "outreach"],
    ["given_name", CANARY],
    ["age", "30"],
    ["gender", "female"],
    ["immediate_needs", "food"],
    ["safety_risk", "low"],
]


@pytest.fixture(autouse=True)
def published(db: Session) -> None:
    definitions.sync_files(db=db)


def count(db: Session, model: Any) -> int:
    db.expire_all()
    return db.execute(select(func.count()).select_from(model)).scalar_one()


def server_key(client: TestClient) -> sealing.PublicKey:
    answer = client.get("/offline/key")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    return sealing.PublicKey(key_id=body["kid"], public_key=body["key"])


def as_pairs(pages: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [key, value]
        for page in pages
        for key, given_value in page.items()
        for value in (given_value if isinstance(given_value, list) else [given_value])
    ]


def send(client: TestClient, record: Any, token: str | None = None) -> Any:
    return client.post(
        "/offline/records",
        content=json.dumps(record),
        headers={"X-CSRF-Token": token or page_token(client), "Content-Type": "application/json"},
    )


def sealed(client: TestClient, user: User, client_id: str, pairs=PAIRS, **extra: Any) -> Any:
    payload = {"client_id": client_id, "owner": user.id, "answers": pairs, **extra}
    return seal_for_tests(public_key=server_key(client), payload=payload)


def test_a_sealed_filling_is_submitted_once_and_a_resend_gets_the_same_answer(
    client, worker, db, settings
) -> None:
    login(client, worker.username)
    client_id = start(client)
    record = sealed(client, worker, client_id)
    first = send(client, record)
    assert first.status_code == 200, first.text
    assert first.json()["state"] == "submitted"
    # The first answer was lost on the way: the phone sends the very same bytes again.
    again = send(client, record)
    assert again.status_code == 200 and again.json() == first.json()
    assert count(db, Submission) == 1 and count(db, FormDraft) == 0
    stored = db.execute(select(Submission)).scalar_one()
    assert stored.client_id == client_id and stored.submitted_by_id == worker.id
    assert stored.sealed_with == record["kid"]
    answers = submission_answers(db=db, settings=settings, submission=stored)
    assert answers["given_name"] == CANARY and answers["age"] == 30
    assert CANARY not in json.dumps(stored.answers)  # sensitive: encrypted at rest


def test_a_changed_resend_is_a_conflict_and_changes_nothing(client, worker, db, settings) -> None:
    login(client, worker.username)
    client_id = start(client)
    assert send(client, sealed(client, worker, client_id)).status_code == 200
    changed = [[k, "31" if k == "age" else v] for k, v in PAIRS]
    refused = send(client, sealed(client, worker, client_id, pairs=changed))
    assert refused.status_code == 409
    assert "already submitted with different answers" in refused.json()["message"]
    stored = db.execute(select(Submission)).scalar_one()
    assert submission_answers(db=db, settings=settings, submission=stored)["age"] == 30


def test_another_workers_record_is_not_found_and_not_stored(client, worker, org, db) -> None:
    other = make_user(db, org, "outreach_worker", "other.worker")
    login(client, worker.username)
    client_id = start(client)
    record = sealed(client, worker, client_id)
    client.cookies.clear()
    login(client, other.username)
    answer = send(client, record)
    assert answer.status_code == 404
    assert CANARY not in answer.text
    # Even when it names the other user as its owner, the draft is not theirs.
    forged = sealed(client, other, client_id)
    assert send(client, forged).status_code == 404
    assert count(db, Submission) == 0


def test_a_record_that_does_not_open_is_refused_and_stores_nothing(client, worker, db) -> None:
    login(client, worker.username)
    client_id = start(client)
    record = sealed(client, worker, client_id)
    altered = dict(record, ct=record["ct"][:-8] + "AAAAAAA=")
    assert send(client, altered).status_code == 400
    assert send(client, dict(record, kid="f" * 32)).status_code == 400
    assert send(client, dict(record, epk="AAAA")).status_code == 400
    bare = client.post(
        "/offline/records",
        content=b"{not json",
        headers={"X-CSRF-Token": page_token(client), "Content-Type": "application/json"},
    )
    assert bare.status_code == 400
    as_form = client.post("/offline/records", data={"csrf_token": page_token(client), "v": "1"})
    assert as_form.status_code == 415
    assert count(db, Submission) == 0


def test_a_record_without_the_session_token_is_refused(client, worker, db) -> None:
    login(client, worker.username)
    client_id = start(client)
    record = sealed(client, worker, client_id)
    answer = client.post("/offline/records", content=json.dumps(record))
    assert answer.status_code in (400, 403, 415)
    assert count(db, Submission) == 0


def test_wrong_answers_wait_in_the_draft_for_the_worker(client, worker, db) -> None:
    login(client, worker.username)
    client_id = start(client)
    wrong = [[k, "150" if k == "age" else v] for k, v in PAIRS]
    answer = send(client, sealed(client, worker, client_id, pairs=wrong))
    assert answer.status_code == 422
    assert answer.json()["state"] == "attention" and answer.json()["url"] == f"/fill/{client_id}"
    assert count(db, Submission) == 0
    review = client.get(f"/fill/{client_id}")
    assert "Some answers need attention" in review.text


def test_the_key_rotates_and_an_older_record_still_opens(client, worker, db, settings) -> None:
    login(client, worker.username)
    client_id = start(client)
    record = sealed(client, worker, client_id)
    old = db.get(SealingKey, record["kid"])
    assert old is not None and old.private_key.startswith("v1:")  # encrypted at rest
    assert "PRIVATE" not in old.private_key
    new = sealing.create_key(db=db, settings=settings)
    assert server_key(client).key_id == new.id != record["kid"]
    assert send(client, record).status_code == 200


def test_an_intake_sent_from_the_outbox_opens_exactly_one_case(client, worker, db) -> None:
    login(client, worker.username)
    next_url = give_consent(client, CONSENT_GIVEN)
    intake_id = next_url.removeprefix("/fill/")
    pairs = as_pairs([MEETING, WOMAN, SITUATION])
    record = sealed(client, worker, intake_id, pairs=pairs)
    first = send(client, record)
    assert first.status_code == 200, first.text
    case = db.execute(select(Case)).scalar_one()
    assert first.json()["url"] == f"/cases/{case.id}"
    assert send(client, record).json()["url"] == f"/cases/{case.id}"
    assert count(db, Case) == 1


def test_a_stage_form_for_a_case_that_moved_on_is_kept_and_marked(
    client, worker, supervisor, db
) -> None:
    login(client, worker.username)
    next_url = give_consent(client, CONSENT_GIVEN)
    intake_id = next_url.removeprefix("/fill/")
    fill_pages(client, intake_id, [MEETING, WOMAN, SITUATION])
    assert submit_online(client, intake_id).status_code == 303
    case = db.execute(select(Case)).scalar_one()
    page = client.get(f"/cases/{case.id}").text
    form = soup(page).select_one(".stage-forms li[data-form=consent] form")
    data = {i["name"]: i["value"] for i in form.find_all("input")}
    started = client.post(form["action"], data=data)
    consent_id = started.headers["location"].removeprefix("/fill/")
    pairs = as_pairs(CONSENT_GIVEN)
    record = sealed(client, worker, consent_id, pairs=pairs, stage="a_stage_long_gone")
    assert send(client, record).status_code == 200
    kept = db.execute(select(Submission).where(Submission.client_id == consent_id)).scalar_one()
    assert kept.case_id == case.id
    assert kept.filled_at_stage == "a_stage_long_gone"
    # The supervisor sees the mark on the case page, with the form's answers.
    client.cookies.clear()
    login(client, supervisor.username)
    shown = soup(client.get(f"/cases/{case.id}").text)
    [consent] = shown.select("details.filled[data-form=consent]")
    mark = consent.select_one("summary .stage-mark").get_text(" ", strip=True)
    assert mark.startswith("Filled while the case was at stage a_stage_long_gone")
    client.cookies.clear()
    login(client, worker.username)
    same = sealed(client, worker, "x" * 20, pairs=pairs)
    assert send(client, same).status_code == 404  # no such draft: nothing made up


@examples(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    record=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=40),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
        ),
        max_leaves=12,
    )
)
def test_any_json_is_answered_without_a_500_and_stores_nothing(client, worker, db, record) -> None:
    if not client.cookies:
        login(client, worker.username)
    token = page_token(client)
    answer = send(client, record, token)
    assert answer.status_code in (400, 404)
    assert count(db, Submission) == 0


def test_the_device_key_is_per_user_and_per_device(client, worker, org, db) -> None:
    other = make_user(db, org, "outreach_worker", "second.worker")
    login(client, worker.username)
    device = "d" * 22
    first = client.get(f"/offline/device-key?device={device}").json()
    assert client.get(f"/offline/device-key?device={device}").json() == first
    assert client.get(f"/offline/device-key?device={'e' * 22}").json()["key"] != first["key"]
    assert client.get("/offline/device-key?device=bad id").status_code == 422
    client.cookies.clear()
    login(client, other.username)
    assert client.get(f"/offline/device-key?device={device}").json()["key"] != first["key"]
    client.cookies.clear()
    assert client.get(f"/offline/device-key?device={device}").status_code in (303, 401)
