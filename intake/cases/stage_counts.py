"""Open and closed cases per organisation, workflow version, track and stage.

Kept in step with the cases in the same transaction as each change (hooked into
rules.record_case_event, the one way a case changes, and the admin's migration of
open cases), so the dashboard reads a few rows instead of counting an organisation's
cases: its cost stays flat as the organisation grows.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    delete,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from intake.cases.models import Case
from intake.db import Base

Key = tuple[str, str, str, str, bool]  # organisation, workflow version, track, stage, open
_COUNTED = ("organisation_id", "workflow_version_id", "track", "state", "closed_at")


class CaseStageCount(Base):
    """How many cases of an organisation are in one stage of one workflow version."""

    __tablename__ = "case_stage_counts"

    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    workflow_version_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    track: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    is_open: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)


# An organisation's cases oldest in their stage first, with what the overdue rule
# reads: the dashboard's overdue list stops after its first rows instead of sorting
# every open case, and its overdue count reads this index alone. closed_at is not
# second: SQLite would then prefer this index for the case lists (organisation and
# open) and sort them, instead of reading ix_cases_org_activity in order.
Index(
    "ix_cases_org_open_stage_age",
    Case.organisation_id,
    Case.state_entered_at,
    Case.id,
    Case.closed_at,
    Case.workflow_version_id,
    Case.track,
    Case.state,
)


def key_of(case: Case) -> Key:
    """Where `case` is counted now."""
    return (
        case.organisation_id,
        case.workflow_version_id,
        case.track,
        case.state,
        case.closed_at is None,
    )


def stored_key(case: Case) -> Key:
    """Where `case` was counted before its pending (unflushed) change."""
    state = inspect(case)
    values = []
    for name in _COUNTED:
        history = state.attrs[name].history
        if history.deleted:
            values.append(history.deleted[0])
        else:  # unchanged, or changed from nothing (SQLAlchemy lists no deleted None)
            values.append(None if history.added else getattr(case, name))
    organisation, version, track, stage, closed_at = values
    return (organisation, version, track, stage, closed_at is None)


def moved(*, db: Session, before: Key | None, after: Key) -> None:
    """Count a case out of `before` (None: a new case) and into `after`, in the caller's
    transaction. An upsert, so the first case of a stage needs no row made beforehand."""
    if before == after:
        return
    if before is not None:
        _add(db, before, -1)
    _add(db, after, 1)


def _add(db: Session, key: Key, delta: int) -> None:
    organisation, version, track, stage, is_open = key
    dialect = db.get_bind().dialect.name
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = upsert(CaseStageCount).values(
        organisation_id=organisation,
        workflow_version_id=version,
        track=track,
        state=stage,
        is_open=is_open,
        cases=delta,
    )
    db.execute(
        statement.on_conflict_do_update(
            index_elements=["organisation_id", "workflow_version_id", "track", "state", "is_open"],
            set_={"cases": CaseStageCount.cases + delta},
        )
    )


def counts(*, db: Session, organisation_id: str) -> Mapping[tuple[str, str, str], tuple[int, int]]:
    """(open, closed) cases per (workflow version, track, stage) of one organisation."""
    found: dict[tuple[str, str, str], list[int]] = {}
    rows = db.execute(
        select(
            CaseStageCount.workflow_version_id,
            CaseStageCount.track,
            CaseStageCount.state,
            CaseStageCount.is_open,
            CaseStageCount.cases,
        ).where(CaseStageCount.organisation_id == organisation_id, CaseStageCount.cases != 0)
    ).all()
    for version, track, stage, is_open, n in rows:
        found.setdefault((version, track, stage), [0, 0])[0 if is_open else 1] += n
    return {key: (pair[0], pair[1]) for key, pair in found.items()}


def rebuild(*, db: Session) -> None:
    """Count every case afresh (the migration's backfill; a bench after a bulk insert)."""
    db.execute(delete(CaseStageCount))
    is_open = Case.closed_at.is_(None)
    grouped = select(
        Case.organisation_id,
        Case.workflow_version_id,
        Case.track,
        Case.state,
        is_open,
        func.count(),
    ).group_by(Case.organisation_id, Case.workflow_version_id, Case.track, Case.state, is_open)
    columns = ["organisation_id", "workflow_version_id", "track", "state", "is_open", "cases"]
    db.execute(insert(CaseStageCount).from_select(columns, grouped))
