"""The audit trail as people read it: scoped by role and organisation, filtered, in keyset
pages, and exported for an inspector.

A supervisor reads their organisation's events: what its people did, and anything done to
its cases and accounts (refused attempts from elsewhere included). An administrator reads
the accounts, definitions and system events of their organisation, and no case event: who
opened which case is case data. Reading and exporting are themselves recorded.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.orm import Session, aliased

from intake.accounts.models import Role, User
from intake.audit import service as audit
from intake.audit.models import AuditEvent
from intake.cases.models import Case
from intake.db import read_transaction, write_transaction

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000
# What a case event is: who opened, changed or looked up which case (and the forms filled).
CASE_PREFIXES = ("case.", "cases.", "form.", "intake.", "overlap.", "export.", "retention.case")
# The families of actions a reader can filter on, by prefix.
KINDS = {
    "sign_in": ("auth.",),
    "accounts": ("user.", "organisation."),
    "cases": ("case.", "cases.", "intake.", "retention.case"),
    "forms": ("form.",),
    "overlap": ("case.overlap", "overlap."),
    "definitions": ("definition.", "definitions."),
    "system": ("audit.", "keys.", "backup.", "retention.run"),
}


@dataclass(frozen=True)
class Filters:
    who: str = ""  # a username
    kind: str = ""  # a key of KINDS
    since: dt.date | None = None
    until: dt.date | None = None
    case_reference: str = ""
    before: int | None = None  # keyset: events older than this id


@dataclass(frozen=True)
class Row:
    id: int
    at: dt.datetime
    action: str
    outcome: str
    actor: str | None  # a username of the reader's organisation, else None
    actor_outside: bool
    object_type: str
    object_label: str  # a case reference or a username of the reader's organisation, else ""


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_before: int | None


def may_read(user: User) -> bool:
    """Whether this role reads an audit trail at all."""
    return user.role in (Role.SUPERVISOR, Role.ADMIN)


def _is_case_event() -> ColumnElement[bool]:
    return or_(*(AuditEvent.action.startswith(p) for p in CASE_PREFIXES))


def _query(reader: User, filters: Filters) -> Select[AuditEvent, User, User, Case]:
    actor = aliased(User)
    target = aliased(User)
    org = reader.organisation_id
    query = (
        select(AuditEvent, actor, target, Case)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(
            target, and_(AuditEvent.object_type == "user", target.id == AuditEvent.object_id)
        )
        .outerjoin(Case, and_(AuditEvent.object_type == "case", Case.id == AuditEvent.object_id))
    )
    ours = or_(
        actor.organisation_id == org,
        target.organisation_id == org,
        and_(AuditEvent.object_type == "organisation", AuditEvent.object_id == org),
    )
    if reader.role == Role.SUPERVISOR:
        query = query.where(or_(ours, Case.organisation_id == org))
    elif reader.role == Role.ADMIN:
        query = query.where(ours, ~_is_case_event())
    else:
        query = query.where(false())
    if filters.who:
        query = query.where(actor.username == filters.who.strip().lower()[:64])
    if filters.kind in KINDS:
        query = query.where(or_(*(AuditEvent.action.startswith(p) for p in KINDS[filters.kind])))
    if filters.since is not None:
        start = dt.datetime.combine(filters.since, dt.time(), tzinfo=dt.UTC)
        query = query.where(AuditEvent.at >= start)
    if filters.until is not None:
        end = dt.datetime.combine(filters.until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        query = query.where(AuditEvent.at < end)
    if filters.case_reference:
        # Only a case of the reader's own organisation is found by its reference.
        query = query.where(
            Case.reference == filters.case_reference.strip().upper()[:16],
            Case.organisation_id == org,
        )
    if filters.before is not None:
        query = query.where(AuditEvent.id < filters.before)
    return query.order_by(AuditEvent.id.desc())


def _row(
    reader: User, event: AuditEvent, actor: User | None, target: User | None, case: Case | None
) -> Row:
    org = reader.organisation_id
    label = ""
    if case is not None and case.organisation_id == org:
        label = case.reference
    elif target is not None and target.organisation_id == org:
        label = target.username
    own_actor = actor is not None and actor.organisation_id == org
    return Row(
        id=event.id,
        at=event.at,
        action=event.action,
        outcome=event.outcome,
        actor=actor.username if own_actor and actor is not None else None,
        actor_outside=actor is not None and not own_actor,
        object_type=event.object_type,
        object_label=label,
    )


def read_page(*, db: Session, reader: User, filters: Filters) -> Page:
    """One page of the events `reader` may read, newest first; the reading is recorded."""
    with read_transaction(db):
        found = db.execute(_query(reader, filters).limit(PAGE_SIZE + 1)).all()
        rows = [_row(reader, e, a, t, c) for e, a, t, c in found[:PAGE_SIZE]]
    with write_transaction(db):
        audit.record(
            db=db,
            action="audit.read",
            actor_id=reader.id,
            object_type="organisation",
            object_id=reader.organisation_id,
        )
    next_before = rows[-1].id if len(found) > PAGE_SIZE else None
    return Page(rows=rows, next_before=next_before)


def _cell(value: str) -> str:
    # A spreadsheet must not read a cell as a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(*, db: Session, reader: User, filters: Filters) -> str:
    """Every event `reader` may read under `filters`, as CSV for an inspector; recorded."""
    with read_transaction(db):
        found = db.execute(_query(reader, filters).limit(EXPORT_LIMIT)).all()
        rows = [_row(reader, e, a, t, c) for e, a, t, c in found]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "at_utc", "action", "outcome", "actor", "object_type", "object"])
    for row in rows:
        actor = row.actor or ("(other organisation)" if row.actor_outside else "")
        writer.writerow(
            [
                row.id,
                row.at.isoformat(),
                _cell(row.action),
                _cell(row.outcome),
                _cell(actor),
                _cell(row.object_type),
                _cell(row.object_label),
            ]
        )
    with write_transaction(db):
        audit.record(
            db=db,
            action="audit.exported",
            actor_id=reader.id,
            object_type="organisation",
            object_id=reader.organisation_id,
            detail=str(len(rows)),
        )
    return out.getvalue()


def chain_status(*, db: Session) -> int | None:
    """None when the whole chain holds, else the first broken event's id (-1: the head)."""
    with read_transaction(db):
        return audit.verify_chain(db=db)
