"""Server-side sessions at their edges: a busy database skips a touch, never an error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.config import Settings
from intake.db import ServerBusy
from intake.security import sessions


def _failing_transaction(error: Exception, seen: list[float | None]):  # type: ignore[no-untyped-def]
    @contextmanager
    def transaction(db: Session, *, wait_seconds: float | None = None) -> Iterator[None]:
        seen.append(wait_seconds)
        raise error
        yield  # pragma: no cover

    return transaction


def test_a_touch_skipped_when_busy_waits_only_briefly(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[float | None] = []
    monkeypatch.setattr(sessions, "write_transaction", _failing_transaction(ServerBusy(), seen))
    sessions._best_effort(db, select(1))  # a busy database: the touch waits for a later request
    assert seen == [sessions._TOUCH_WAIT_SECONDS]


def test_a_touch_that_fails_otherwise_is_not_hidden(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "write_transaction", _failing_transaction(ValueError(), []))
    with pytest.raises(ValueError):
        sessions._best_effort(db, select(1))


def test_ending_every_session_counts_them(db: Session, settings: Settings, worker: User) -> None:
    assert sessions.end_all_sessions(db=db, user_id=worker.id) == 0
    sessions.start_session(db=db, user=worker, settings=settings)
    sessions.start_session(db=db, user=worker, settings=settings)
    assert sessions.end_all_sessions(db=db, user_id=worker.id) == 2
