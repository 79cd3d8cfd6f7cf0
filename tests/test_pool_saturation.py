"""PostgreSQL with more requests at once than pool slots (issue 18, defect 3): a request
that cannot have a connection within the bound is answered 503 with Retry-After, never
500 and never a 30 s wait; one that gets a connection is answered as usual."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, text
from sqlalchemy.engine import Connection

from intake.accounts import service as accounts
from intake.accounts.models import Organisation, User
from intake.app import create_app
from intake.security.models import UserSession
from tests.conftest import PASSWORD, PG_SCHEMA, PG_URL, _postgres_schema_url, make_settings

BOUND = 0.5  # seconds a request may wait for a connection in these tests
SLOTS = 2  # worker threads, and so pool connections


@pytest.fixture
def small_pool(engine, backend: str, tmp_path: Path) -> Iterator[TestClient]:
    """The real app on PostgreSQL with a pool of SLOTS connections and one signed-in worker."""
    if backend != "postgresql":
        pytest.skip("the connection pool is PostgreSQL's; SQLite's bound is its write lock")
    url = _postgres_schema_url(PG_URL, PG_SCHEMA)
    settings = make_settings(tmp_path / "var", url, write_wait_seconds=BOUND, worker_threads=SLOTS)
    app = create_app(settings)
    with app.state.session_factory() as db:
        org = accounts.get_or_create_organisation(db=db, name="Pool org")
        accounts.create_user(
            db=db,
            username="pool.worker",
            display_name="Worker",
            role="outreach_worker",
            organisation=org,
            password=PASSWORD,
        )
        db.commit()
    try:
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
            page = client.get("/login").text
            token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            signed_in = client.post(
                "/login",
                data={"username": "pool.worker", "password": PASSWORD, "csrf_token": token},
            )
            assert signed_in.status_code == 303
            yield client
    finally:
        with app.state.session_factory() as db:
            user = db.query(User).filter_by(username="pool.worker").one()
            db.execute(delete(UserSession).where(UserSession.user_id == user.id))
            db.execute(text("DELETE FROM audit_events"))
            db.execute(text("DELETE FROM audit_head"))
            db.execute(text("DELETE FROM client_throttles"))
            db.delete(user)
            db.flush()
            db.execute(delete(Organisation).where(Organisation.name == "Pool org"))
            db.commit()
        app.state.engine.dispose()


def _hold_every_connection(client: TestClient) -> list[Connection]:
    """Every pool slot checked out and idle in a transaction, as slow requests would hold them."""
    held = [client.app.state.engine.connect() for _ in range(SLOTS)]  # type: ignore[attr-defined]
    for conn in held:
        conn.execute(text("SELECT 1"))
    return held


def test_a_page_with_every_connection_taken_is_a_quick_503_then_a_200(
    small_pool: TestClient,
) -> None:
    held = _hold_every_connection(small_pool)
    try:
        started = time.monotonic()
        busy = small_pool.get("/")
        waited = time.monotonic() - started
    finally:
        for conn in held:
            conn.close()
    assert busy.status_code == 503
    assert busy.headers["retry-after"].isdigit()
    assert waited < 10 * BOUND  # the bound, not SQLAlchemy's default 30 s
    assert small_pool.get("/").status_code == 200


def test_three_times_as_many_requests_as_connections_get_no_500(
    small_pool: TestClient,
) -> None:
    held = _hold_every_connection(small_pool)
    statuses: list[int] = []
    start = threading.Barrier(3 * SLOTS)

    def open_page() -> None:
        start.wait(10)
        statuses.append(small_pool.get("/").status_code)

    threads = [threading.Thread(target=open_page) for _ in range(3 * SLOTS)]
    for thread in threads:
        thread.start()
    # Half of the requests wait on the full pool; then the pool is handed back.
    time.sleep(BOUND / 2)
    for conn in held:
        conn.close()
    for thread in threads:
        thread.join(30)
    assert len(statuses) == 3 * SLOTS
    assert set(statuses) <= {200, 503}
    assert 200 in statuses
