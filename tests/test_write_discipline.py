"""The one write discipline on SQLite (intake.db, intake.middleware.WriteDiscipline).

A real SQLite file and the real app: the write lock is held only by a write
transaction, a request that cannot have it in time gets 503 with Retry-After (never a
hang or a 500), and a reading request never fails because its session touch met a
busy database.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from intake import migrate
from intake.accounts import service as accounts
from intake.app import create_app
from intake.db import ServerBusy, read_transaction, utcnow, write_transaction
from intake.security.models import UserSession
from tests.conftest import PASSWORD, make_settings

BOUND = 0.3  # seconds a request may wait for the write lock in these tests


@pytest.fixture
def app_on_file(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    path = tmp_path / "intake.sqlite3"
    url = f"sqlite:///{path}"
    migrate.upgrade(url=url)
    app = create_app(make_settings(tmp_path / "var", url, write_wait_seconds=BOUND))
    with app.state.session_factory() as db:
        org = accounts.get_or_create_organisation(db=db, name="Org A")
        accounts.create_user(
            db=db,
            username="worker",
            display_name="Worker",
            role="outreach_worker",
            organisation=org,
            password=PASSWORD,
        )
        db.commit()
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client, path


def _sign_in(client: TestClient) -> None:
    page = client.get("/login").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login", data={"username": "worker", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303


def _csrf(client: TestClient, path: str = "/") -> str:
    page = client.get(path).text
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


@pytest.fixture
def other_writer(app_on_file: tuple[TestClient, Path]) -> Iterator[sqlite3.Connection]:
    """Another process's writer, holding SQLite's write lock until the test lets go."""
    _client, path = app_on_file
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    yield holder
    if holder.in_transaction:
        holder.execute("ROLLBACK")
    holder.close()


def test_a_write_that_cannot_have_the_lock_in_time_is_refused_with_503(
    app_on_file: tuple[TestClient, Path], other_writer: sqlite3.Connection
) -> None:
    client, _path = app_on_file
    _sign_in(client)
    token = _csrf(client)
    other_writer.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    response = client.post("/language", data={"locale": "lt", "csrf_token": token})
    waited = time.monotonic() - started
    other_writer.execute("ROLLBACK")
    assert response.status_code == 503
    assert response.headers["retry-after"].isdigit()
    assert "busy" in response.text and "Nothing was changed" in response.text
    assert waited < 10 * BOUND  # bounded: a 503, never a hang
    # Once the lock is free the same request goes through.
    again = client.post("/language", data={"locale": "lt", "csrf_token": token})
    assert again.status_code == 303


def test_a_page_whose_session_is_due_a_touch_opens_while_another_writer_holds_the_lock(
    app_on_file: tuple[TestClient, Path], other_writer: sqlite3.Connection
) -> None:
    client, path = app_on_file
    _sign_in(client)
    long_ago = utcnow() - dt.timedelta(minutes=5)
    app = client.app
    with app.state.session_factory() as db:  # type: ignore[attr-defined]
        db.execute(update(UserSession).values(last_seen_at=long_ago))
        db.commit()
    other_writer.execute("BEGIN IMMEDIATE")
    response = client.get("/")
    other_writer.execute("ROLLBACK")
    assert response.status_code == 200
    # The touch was skipped, not lost for good: the next page view does it.
    assert client.get("/").status_code == 200
    with sqlite3.connect(path) as check:
        (seen,) = check.execute("SELECT last_seen_at FROM user_sessions").fetchone()
    assert dt.datetime.fromisoformat(seen).replace(tzinfo=dt.UTC) > long_ago


def test_the_lock_is_held_by_the_write_transaction_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gate.sqlite3'}"
    migrate.upgrade(url=url)
    app = create_app(make_settings(tmp_path / "var", url, write_wait_seconds=BOUND))
    factory = app.state.session_factory
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with factory() as db, write_transaction(db):
            db.execute(text("UPDATE audit_head SET id = id WHERE 1 = 0"))
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(10)
    with factory() as db:
        # Reading goes on beside the writer ...
        with read_transaction(db):
            assert db.execute(text("SELECT count(*) FROM users")).scalar_one() == 0
        # ... a second writer waits no longer than the bound, then is told the server is busy.
        started = time.monotonic()
        with pytest.raises(ServerBusy), write_transaction(db):
            db.execute(text("SELECT 1"))
        assert time.monotonic() - started < 10 * BOUND
    release.set()
    holder.join(10)
    # Once the first writer has committed, the lock is free again.
    with factory() as db, write_transaction(db):
        db.execute(text("UPDATE audit_head SET id = id WHERE 1 = 0"))


def test_a_failed_request_lets_go_of_the_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gate.sqlite3'}"
    migrate.upgrade(url=url)
    app = create_app(make_settings(tmp_path / "var", url, write_wait_seconds=BOUND))
    factory = app.state.session_factory
    with pytest.raises(RuntimeError), factory() as db, write_transaction(db):
        db.execute(text("UPDATE audit_head SET id = id WHERE 1 = 0"))
        raise RuntimeError("the work failed halfway")
    # A session closed in the middle of a write transaction lets go too.
    db = factory()
    with write_transaction(db):
        pass
    session = Session(bind=app.state.engine)
    from intake.db import write_intent

    token = write_intent.set(True)
    try:
        session.execute(text("UPDATE audit_head SET id = id WHERE 1 = 0"))
    finally:
        write_intent.reset(token)
    session.close()
    with factory() as db, write_transaction(db, wait_seconds=0.05):
        db.execute(text("SELECT 1"))
