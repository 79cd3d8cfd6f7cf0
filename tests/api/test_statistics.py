"""Statistics through the API: the coordinator's figures (intake.statistics), small cells hidden."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts import tokens
from intake.accounts.models import Organisation, User
from tests.api.conftest import audit_rows, bearer, make_token
from tests.conftest import make_user
from tests.statistics.helpers import MARKER, agree, cases, coordination_body


def test_a_coordinator_reads_the_figures_with_small_counts_hidden(
    client: TestClient, db: Session, org: Organisation, worker: User
) -> None:
    body = coordination_body(db)
    agree(db, body, org)
    coordinator = make_user(db, body, "coordinator", "coordinator-1")
    assert tokens.scopes_for(coordinator) == ["statistics:read"]
    cases(db, worker, 12, gender="female")
    cases(db, worker, 2, gender="male")
    response = client.get("/api/v1/statistics", headers=bearer(make_token(db, coordinator)))
    assert response.status_code == 200, response.text
    figures = response.json()
    assert figures["organisations"] == 1 and figures["cases"]["value"] == 14
    gender = next(b for b in figures["breakdowns"] if b["key"] == "gender")
    counts = {line["code"]: line["count"] for line in gender["lines"]}
    assert counts["male"] == {"value": None, "small": True}
    assert counts["female"]["value"] is None  # would give the 2 away with the total
    assert MARKER not in response.text
    assert [r.actor_id for r in audit_rows(db, "statistics.viewed")] == [coordinator.id]


def test_a_year_outside_the_offered_ones_is_refused(
    client: TestClient, db: Session, supervisor: User
) -> None:
    headers = bearer(make_token(db, supervisor, scopes=["statistics:read"]))
    for year in ("1066", "20x4", "9" * 10):
        response = client.get("/api/v1/statistics", params={"year": year}, headers=headers)
        assert response.status_code == 422, year
        assert response.json()["error"]["fields"]["year"]
    assert client.get("/api/v1/statistics?year=2024", headers=headers).status_code == 200


def test_an_outreach_worker_has_no_statistics_scope(
    client: TestClient, db: Session, worker: User
) -> None:
    assert "statistics:read" not in tokens.scopes_for(worker)
    response = client.get("/api/v1/statistics", headers=bearer(make_token(db, worker)))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
