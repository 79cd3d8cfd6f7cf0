"""Two supervisors fire on one case at the same moment, on real separate connections.

The rolled-back test transaction cannot show this (it is one connection), so each
backend gets a fresh database of its own: a new SQLite file, or a new PostgreSQL
schema dropped afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from intake import migrate
from intake.accounts import service as accounts
from intake.accounts.models import User
from intake.audit.models import AuditEvent
from intake.cases import stages as workflow_service
from intake.cases.access import get_visible_case
from intake.cases.models import Case, CaseHistory
from intake.db import make_engine, make_session_factory, new_id, read_transaction, write_intent
from tests.cases.helpers import open_case, publish_shipped
from tests.conftest import PASSWORD, PG_URL, SEALING

ROUNDS = 3


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
        migrate.upgrade(url=url)
        engine = make_engine(url)
        yield engine
        engine.dispose()
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tests need INTAKE_TEST_DATABASE_URL")
    schema = f"race_{new_id()[:12]}"
    owner = make_engine(PG_URL)
    with owner.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    try:
        migrate.upgrade(url=url)
        engine = make_engine(url)
        yield engine
        engine.dispose()
    finally:
        with owner.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        owner.dispose()


def _people(engine: Engine) -> tuple[str, str, str]:
    factory = make_session_factory(engine)
    with factory() as db:
        publish_shipped(db)
        org = accounts.get_or_create_organisation(db=db, name="Race Org")
        ids = []
        for role, name in [
            ("outreach_worker", "w"),
            ("supervisor", "s1"),
            ("supervisor", "s2"),
        ]:
            user, _ = accounts.create_user(
                db=db,
                username=name,
                display_name=name,
                role=role,
                organisation=org,
                password=PASSWORD,
            )
            ids.append(user.id)
        return ids[0], ids[1], ids[2]


def _race(
    factory: sessionmaker[Session], case_id: str, shown: int, user_ids: tuple[str, str]
) -> list[str]:
    """Each supervisor reads the case, waits for the other, then fires; what each got.

    As in the application: the page is read in a transaction of its own, and the
    POST's transaction takes SQLite's write lock from its first statement
    (write_intent, set by intake.middleware.WriteDiscipline), reading the case again."""
    barrier = threading.Barrier(len(user_ids), timeout=30)
    outcomes: list[str] = []

    def supervisor_fires(user_id: str) -> None:
        with factory() as db:
            with read_transaction(db):
                user = db.get(User, user_id)
                assert user is not None
                get_visible_case(db=db, user=user, case_id=case_id)
            barrier.wait()  # both have seen the same version; now both post
            write_intent.set(True)
            case = get_visible_case(db=db, user=user, case_id=case_id)
            try:
                workflow_service.fire_transition(
                    db=db,
                    settings=SEALING,
                    case=case,
                    user=user,
                    trigger="close",
                    reason="duplicate of another case",
                    expected_row_version=shown,
                )
                outcomes.append("won")
            except workflow_service.ConflictError:
                outcomes.append("conflict")

    threads = [threading.Thread(target=supervisor_fires, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_supervisors_fire_at_once_and_exactly_one_wins(fresh_engine: Engine) -> None:
    factory = make_session_factory(fresh_engine)
    worker_id, first_id, second_id = _people(fresh_engine)
    for _round in range(ROUNDS):
        with factory() as db:
            worker = db.get(User, worker_id)
            assert worker is not None
            case = open_case(db, worker)
            case_id, shown = case.id, case.row_version
        outcomes = _race(factory, case_id, shown, (first_id, second_id))
        assert sorted(outcomes) == ["conflict", "won"]

        with factory() as db:
            stored = db.get(Case, case_id)
            assert stored is not None
            assert (stored.state, stored.row_version) == ("closed", shown + 1)
            moves = db.execute(
                select(CaseHistory).where(
                    CaseHistory.case_id == case_id, CaseHistory.kind == "transition"
                )
            ).scalars()
            assert len(list(moves)) == 1
            events = db.execute(
                select(AuditEvent.outcome, AuditEvent.detail).where(
                    AuditEvent.object_id == case_id, AuditEvent.action == "case.transition"
                )
            ).all()
            assert sorted(events) == [("ok", "trigger=close"), ("refused", "conflict")]
