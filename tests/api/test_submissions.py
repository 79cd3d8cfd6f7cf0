"""Submitting a filling through the API: the web form's validation, sealing and idempotency."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases.models import Case
from intake.filling.models import Submission
from intake.security.sessions import cookie_name
from tests.api.conftest import audit_rows, bearer, first_contact, make_token
from tests.cases.helpers import open_case
from tests.conftest import login, make_user


def _count(db: Session) -> int:
    db.expire_all()
    return int(db.execute(select(func.count(Submission.id))).scalar_one())


def test_a_filling_is_stored_once_and_a_retry_gets_the_same_result(
    client: TestClient, db: Session, worker: User
) -> None:
    headers = bearer(make_token(db, worker))
    body = first_contact()
    first = client.post("/api/v1/submissions", json=body, headers=headers)
    assert first.status_code == 201, first.text
    stored = first.json()
    assert stored["created"] is True and stored["form"] == "first_contact"
    again = client.post("/api/v1/submissions", json=body, headers=headers)
    assert again.status_code == 200
    assert again.json()["id"] == stored["id"] and again.json()["created"] is False
    assert _count(db) == 1
    changed = {**body, "answers": {**body["answers"], "birth_date": "1991-05-04"}}
    conflict = client.post("/api/v1/submissions", json=changed, headers=headers)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "client_id_conflict"
    assert "different answers" in conflict.json()["error"]["message"]
    assert _count(db) == 1


def test_sensitive_answers_are_sealed_at_rest(
    client: TestClient, db: Session, worker: User
) -> None:
    response = client.post(
        "/api/v1/submissions", json=first_contact(), headers=bearer(make_token(db, worker))
    )
    assert response.status_code == 201
    row = db.get(Submission, response.json()["id"])
    assert row is not None and row.submitted_by_id == worker.id
    assert row.organisation_id == worker.organisation_id
    text = json.dumps(row.answers, ensure_ascii=False)
    assert "Petraitė" not in text and "Ona" not in text and "1990-05-04" not in text
    assert row.answers["where_met"] == "outreach"  # not sensitive: in the clear


def test_wrong_answers_are_refused_with_a_message_each_and_nothing_is_stored(
    client: TestClient, db: Session, worker: User
) -> None:
    body = first_contact(birth_date="not a date", where_met="the moon")
    response = client.post("/api/v1/submissions", json=body, headers=bearer(make_token(db, worker)))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "answers_invalid"
    assert {"birth_date", "where_met"} <= set(error["fields"])
    assert all(isinstance(m, str) and m for m in error["fields"].values())
    assert _count(db) == 0


def test_messages_follow_the_token_users_language(
    client: TestClient, db: Session, worker: User
) -> None:
    worker.locale = "lt"
    db.commit()
    body = first_contact(where_met="the moon")
    response = client.post("/api/v1/submissions", json=body, headers=bearer(make_token(db, worker)))
    assert response.status_code == 422
    english = "Choose one of the options."
    assert response.json()["error"]["message"] != "Some of the data sent was not valid."
    assert english not in response.json()["error"]["fields"].values()


def test_unknown_form_or_version_is_a_404(client: TestClient, db: Session, worker: User) -> None:
    headers = bearer(make_token(db, worker))
    for changes in ({"form": "no_such_form"}, {"version": 999}):
        response = client.post(
            "/api/v1/submissions", json={**first_contact(), **changes}, headers=headers
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "form_not_found"
    assert _count(db) == 0


def test_in_a_case_only_one_the_user_may_see(
    client: TestClient, db: Session, worker: User, other_org: Organisation
) -> None:
    own = open_case(db, worker)
    stranger = make_user(db, other_org, "outreach_worker", "stranger")
    foreign = open_case(db, stranger)
    headers = bearer(make_token(db, worker))
    body = {**first_contact(), "case_id": own.id}
    assert client.post("/api/v1/submissions", json=body, headers=headers).status_code == 201
    db.expire_all()
    row = db.execute(select(Submission).where(Submission.client_id == body["client_id"])).scalar()
    assert row is not None and row.case_id == own.id
    probe = {**first_contact(), "case_id": foreign.id}
    refused = client.post("/api/v1/submissions", json=probe, headers=headers)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "case_not_found"
    probes = [r for r in audit_rows(db, "form.submitted") if r.outcome == "refused"]
    assert [(r.actor_id, r.object_id) for r in probes] == [(worker.id, foreign.id)]
    assert _count(db) == 1
    assert db.get(Case, foreign.id) is not None


def test_another_users_client_id_is_not_confirmed(
    client: TestClient, db: Session, worker: User, supervisor: User
) -> None:
    body = first_contact()
    mine = client.post("/api/v1/submissions", json=body, headers=bearer(make_token(db, worker)))
    assert mine.status_code == 201
    theirs = client.post(
        "/api/v1/submissions", json=body, headers=bearer(make_token(db, supervisor))
    )
    assert theirs.status_code == 404
    assert mine.json()["id"] not in theirs.text


def test_malformed_huge_and_misshapen_bodies_get_json_errors(
    client: TestClient, db: Session, worker: User
) -> None:
    headers = {**bearer(make_token(db, worker)), "Content-Type": "application/json"}
    broken = client.post("/api/v1/submissions", content=b'{"client_id": ', headers=headers)
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "malformed_json"
    huge = b'{"answers": {"x": "' + b"a" * 1_100_000 + b'"}}'
    too_big = client.post("/api/v1/submissions", content=huge, headers=headers)
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "too_large"
    extra = {**first_contact(), "owner": "someone else"}
    misshapen = client.post("/api/v1/submissions", json=extra, headers=headers)
    assert misshapen.status_code == 422
    assert "owner" in misshapen.json()["error"]["fields"]
    for wrong in ([], "text", {"client_id": "short", "form": "first_contact", "answers": {}}):
        response = client.post("/api/v1/submissions", json=wrong, headers=headers)
        assert response.status_code == 422, wrong
        assert response.headers["content-type"].startswith("application/json")
    assert _count(db) == 0


def test_a_session_cookie_is_ignored_and_no_csrf_token_is_needed(
    app: object, client: TestClient, db: Session, worker: User
) -> None:
    assert getattr(login(client, worker.username), "status_code", None) == 303
    assert cookie_name(client.app.state.settings) in client.cookies  # type: ignore[attr-defined]
    signed_in_only = client.post("/api/v1/submissions", json=first_contact())
    assert signed_in_only.status_code == 401
    assert signed_in_only.json()["error"]["code"] == "token_missing"
    # With a token, from another site, with no CSRF token: the token alone decides.
    response = client.post(
        "/api/v1/submissions",
        json=first_contact(),
        headers={**bearer(make_token(db, worker)), "Origin": "https://elsewhere.example"},
    )
    assert response.status_code == 201
    assert "set-cookie" not in response.headers
    # The rest of the application still refuses a cross-site post.
    assert (
        client.post("/logout", headers={"Origin": "https://elsewhere.example"}).status_code == 403
    )


def test_cors_stays_closed(client: TestClient, db: Session, worker: User) -> None:
    preflight = client.options(
        "/api/v1/submissions",
        headers={
            "Origin": "https://elsewhere.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 405
    assert not any(h.lower().startswith("access-control-") for h in preflight.headers)
    response = client.get(
        "/api/v1/definitions",
        headers={**bearer(make_token(db, worker)), "Origin": "https://elsewhere.example"},
    )
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["cache-control"] == "no-store"
