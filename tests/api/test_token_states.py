"""Property: a token opens a route only when every condition holds at once (live token, active
user and organisation, no one-time password pending, the route's scope), whatever the mix."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.accounts.token_models import ApiToken
from intake.db import utcnow
from intake.security.sessions import hash_token
from tests.api.conftest import bearer, make_token
from tests.cases.helpers import open_case


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    revoked=st.booleans(),
    expired=st.booleans(),
    user_active=st.booleans(),
    organisation_active=st.booleans(),
    one_time_password=st.booleans(),
    scopes=st.sets(st.sampled_from(["submissions:write", "cases:read"]), min_size=1),
)
def test_a_token_opens_a_case_only_when_everything_holds(
    client: TestClient,
    db: Session,
    worker: User,
    org: Organisation,
    revoked: bool,
    expired: bool,
    user_active: bool,
    organisation_active: bool,
    one_time_password: bool,
    scopes: set[str],
) -> None:
    worker.active = org.active = True
    worker.must_change_password = False
    db.commit()
    case = open_case(db, worker)
    secret = make_token(db, worker, scopes=sorted(scopes))
    now = utcnow()
    db.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == hash_token(secret))
        .values(
            revoked_at=now if revoked else None,
            expires_at=now - dt.timedelta(seconds=1) if expired else now + dt.timedelta(days=1),
        )
    )
    worker.active, org.active = user_active, organisation_active
    worker.must_change_password = one_time_password
    db.commit()
    response = client.get(f"/api/v1/cases/{case.id}", headers=bearer(secret))
    alive = not (revoked or expired or one_time_password) and user_active and organisation_active
    if not alive:
        assert response.status_code == 401
    elif "cases:read" not in scopes:
        assert response.status_code == 403
    else:
        assert response.status_code == 200
        assert response.json()["reference"] == case.reference
    if response.status_code != 200:
        assert case.reference not in response.text
