"""Sign-in throttling that colleagues and attackers cannot turn against each other."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts import signin
from intake.accounts.models import User
from intake.db import make_engine, make_session_factory, utcnow
from intake.security.models import ClientThrottle
from tests.conftest import PASSWORD, PG_SCHEMA, PG_URL, _postgres_schema_url, login, make_settings


def test_the_right_password_from_a_blocked_address_does_not_lock_the_account(
    client: TestClient, app, db: Session, worker: User
) -> None:
    app.state.settings.login_client_max_failures = 2
    for n in range(2):
        login(client, f"someone{n}", "wrong password here")
    # A colleague behind the same blocked address signs in with the right password,
    # again and again: refused while the address is blocked ...
    for _ in range(6):
        assert login(client, worker.username, PASSWORD).status_code == 401
    db.expire_all()
    account = db.get(User, worker.id)
    # ... but their account carries no failure and no lock for it.
    assert account.failed_logins == 0
    assert account.locked_until is None


@pytest.mark.postgres
def test_two_first_failures_from_a_new_address_both_count(
    engine, backend: str, tmp_path: Path
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite orders writers with its one lock; the race is PostgreSQL's")
    url = _postgres_schema_url(PG_URL, PG_SCHEMA)
    settings = make_settings(tmp_path, url)
    racing = make_engine(url)
    factory = make_session_factory(racing)
    key = signin.client_key(settings, "203.0.113.9")
    try:
        first, second = factory(), factory()
        now = utcnow()
        # The first failure is counted but not yet committed ...
        signin._count_client_failure(db=first, settings=settings, key=key, now=now)
        errors: list[BaseException] = []

        def count_second() -> None:
            try:
                signin._count_client_failure(db=second, settings=settings, key=key, now=now)
                second.commit()
            except BaseException as exc:  # the assertion below shows it
                errors.append(exc)

        racer = threading.Thread(target=count_second)
        racer.start()
        racer.join(0.5)  # the second waits for the first's row
        first.commit()
        racer.join(10)
        assert errors == []
        with factory() as check:
            row = check.execute(
                select(ClientThrottle).where(ClientThrottle.client_key == key)
            ).scalar_one()
            assert row.failures == 2
            check.delete(row)
            check.commit()
    finally:
        first.close()
        second.close()
        racing.dispose()
