"""The audit chain: linked when each transaction commits, verifiable, and on PostgreSQL not
a lock held from a transaction's first audited step to its end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from intake.audit import service as audit
from intake.audit.models import AuditEvent
from intake.db import make_engine, make_session_factory
from tests.conftest import PG_SCHEMA, PG_URL, _postgres_schema_url


@pytest.fixture
def committing(engine: Engine, database_url: str, backend: str) -> Iterator[sessionmaker[Session]]:
    """Sessions that really commit (the chain is linked at commit), emptied afterwards."""
    url = _postgres_schema_url(PG_URL, PG_SCHEMA) if backend == "postgresql" else database_url
    own = make_engine(url)
    factory = make_session_factory(own)
    yield factory
    with factory() as db:
        db.execute(AuditEvent.__table__.delete())
        db.execute(audit.AuditHead.__table__.delete())
        db.commit()
    own.dispose()


def _record(db: Session, n: int) -> AuditEvent:
    return audit.record(db=db, action="test.event", object_type="test", object_id=str(n))


def test_rows_committed_one_after_another_form_a_chain_that_verifies(
    committing: sessionmaker[Session],
) -> None:
    for n in range(3):
        with committing() as db:
            _record(db, n)
            _record(db, n + 100)
            db.commit()
    with committing() as db:
        assert audit.verify_chain(db=db) is None
        rows = db.query(AuditEvent).order_by(AuditEvent.id).all()
        assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]


def test_a_row_rolled_back_leaves_no_gap(committing: sessionmaker[Session]) -> None:
    with committing() as db:
        _record(db, 1)
        db.rollback()
        _record(db, 2)
        db.commit()
    with committing() as db:
        assert audit.verify_chain(db=db) is None


def test_a_changed_row_is_named(committing: sessionmaker[Session]) -> None:
    with committing() as db:
        first, second = _record(db, 1), _record(db, 2)
        db.commit()
        db.execute(update(AuditEvent).where(AuditEvent.id == second.id).values(detail="edited"))
        db.commit()
        assert audit.verify_chain(db=db) == second.id
        assert first.id != second.id


def test_a_deleted_row_is_found(committing: sessionmaker[Session]) -> None:
    with committing() as db:
        rows = [_record(db, n) for n in range(3)]
        db.commit()
        db.execute(AuditEvent.__table__.delete().where(AuditEvent.id == rows[1].id))
        db.commit()
        assert audit.verify_chain(db=db) == rows[2].id


def test_postgresql_a_later_transaction_commits_first_and_the_chain_holds(
    committing: sessionmaker[Session], backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: ids follow commits there")
    slow, quick = committing(), committing()
    try:
        # Were the chain's head locked at the first audited step, this would fail, not hang.
        quick.execute(text("SET lock_timeout = '2s'"))
        early = _record(slow, 1)  # first id, still uncommitted ...
        late = _record(quick, 2)
        # ... and it holds nothing the other needs: this commit does not wait for it.
        quick.commit()
        slow.commit()
        assert early.id < late.id
        assert early.prev_hash == late.hash  # linked in the order of the commits
        with committing() as db:
            assert audit.verify_chain(db=db) is None
    finally:
        slow.close()
        quick.close()
