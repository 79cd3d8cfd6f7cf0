"""Reading a case through the API: the same need to know as the case page."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases.models import Case
from tests.api.conftest import audit_rows, bearer, first_contact, make_token
from tests.cases.helpers import assign, open_case
from tests.conftest import make_user


def _case_with_intake(client: TestClient, db: Session, worker: User) -> Case:
    case = open_case(db, worker)
    body = {**first_contact(), "case_id": case.id}
    response = client.post("/api/v1/submissions", json=body, headers=bearer(make_token(db, worker)))
    assert response.status_code == 201
    return case


def test_the_team_reads_stage_history_and_every_answer(
    client: TestClient, db: Session, worker: User, supervisor: User
) -> None:
    case = _case_with_intake(client, db, worker)
    assign(db, supervisor, case, worker, "social_worker")
    response = client.get(f"/api/v1/cases/{case.id}", headers=bearer(make_token(db, worker)))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == case.id and body["reference"] == case.reference
    assert body["stage"]["key"] == case.state and body["stage"]["label"]
    kinds = [entry["kind"] for entry in body["history"]]
    assert kinds[0] == "created" and "team_assigned" in kinds and "submission" in kinds
    [filled] = body["forms"]
    assert filled["form"] == "first_contact" and filled["withheld"] == []
    assert filled["answers"]["family_name"] == "Petraitė"
    assert filled["answers"]["birth_date"] == "1990-05-04"
    views = audit_rows(db, "case.viewed")
    assert [(r.actor_id, r.object_id) for r in views][-1] == (worker.id, case.id)


def test_the_owner_off_the_team_sees_no_sensitive_answer(
    client: TestClient, db: Session, worker: User
) -> None:
    case = _case_with_intake(client, db, worker)  # the owner, never put on the team
    response = client.get(f"/api/v1/cases/{case.id}", headers=bearer(make_token(db, worker)))
    assert response.status_code == 200
    [filled] = response.json()["forms"]
    assert "Petraitė" not in response.text and "1990-05-04" not in response.text
    assert {"family_name", "given_name", "birth_date"} <= set(filled["withheld"])
    assert filled["answers"]["where_met"] == "outreach"


def test_another_organisations_case_is_a_404_and_the_probe_is_audited(
    client: TestClient, db: Session, worker: User, other_org: Organisation
) -> None:
    stranger = make_user(db, other_org, "supervisor", "stranger")
    case = _case_with_intake(client, db, worker)
    headers = bearer(make_token(db, stranger))
    foreign = client.get(f"/api/v1/cases/{case.id}", headers=headers)
    made_up = client.get(f"/api/v1/cases/{'f' * 32}", headers=headers)
    assert foreign.status_code == made_up.status_code == 404
    assert foreign.json() == made_up.json()  # nothing tells the two apart
    assert case.reference not in foreign.text
    probes = [r for r in audit_rows(db, "case.viewed") if r.outcome == "refused"]
    assert [(r.actor_id, r.object_id) for r in probes] == [
        (stranger.id, case.id),
        (stranger.id, "f" * 32),
    ]


def test_a_submissions_only_token_cannot_read_cases(
    client: TestClient, db: Session, worker: User
) -> None:
    case = open_case(db, worker)
    secret = make_token(db, worker, scopes=["submissions:write"])
    response = client.get(f"/api/v1/cases/{case.id}", headers=bearer(secret))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert case.reference not in response.text


def test_hostile_case_ids_are_plain_404s(client: TestClient, db: Session, worker: User) -> None:
    headers = bearer(make_token(db, worker))
    for case_id in ("x" * 5000, "%00", "%20", "' OR 1=1 --", "Ольга", "0" * 33):
        response = client.get(f"/api/v1/cases/{case_id}", headers=headers)
        assert response.status_code == 404, case_id
        assert response.json()["error"]["code"] == "case_not_found"
