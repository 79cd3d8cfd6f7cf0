"""Append to and verify the audit trail."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from intake.audit.models import AuditEvent, AuditHead
from intake.db import utcnow

GENESIS = "0" * 64


def _digest(event: AuditEvent) -> str:
    payload = json.dumps(
        [
            event.prev_hash,
            event.at.isoformat(),
            event.actor_id,
            event.action,
            event.object_type,
            event.object_id,
            event.outcome,
            event.detail,
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


_PENDING = "intake_audit_pending"


def record(
    *,
    db: Session,
    action: str,
    actor_id: str | None = None,
    object_type: str = "",
    object_id: str = "",
    outcome: str = "ok",
    detail: str = "",
) -> AuditEvent:
    """Append one row in the caller's transaction (committed with the action it records).

    The row is written at once, so the transaction sees it; it is linked into the
    chain when the transaction commits (_link_pending): the chain's head is locked
    for the commit only, not from the first audited step of a transaction to its
    end, so on PostgreSQL writers do not queue behind each other's work."""
    row = AuditEvent(
        at=utcnow(),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        detail=detail[:200],
        prev_hash="",
        hash="",
    )
    db.add(row)
    db.flush()
    db.info.setdefault(_PENDING, []).append(row)
    return row


@event.listens_for(Session, "before_commit")
def _link_pending(db: Session) -> None:
    pending = [e for e in db.info.pop(_PENDING, []) if inspect(e).persistent]
    if not pending:
        return
    head = db.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_hash=GENESIS)
        db.add(head)
    for each in pending:
        each.prev_hash = head.last_hash
        each.hash = _digest(each)
        head.last_hash = each.hash
    db.flush()


@event.listens_for(Session, "after_rollback")
def _forget_pending(db: Session) -> None:
    db.info.pop(_PENDING, None)


def verify_chain(*, db: Session) -> int | None:
    """The id of the first row whose hash or link is wrong, or None when the chain holds.

    Rows are linked in the order their transactions committed, which on PostgreSQL
    is not always the order of their ids: the chain is walked by its links from the
    first row, and every row must be on it exactly once."""
    rows = db.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    following: dict[str, AuditEvent] = {}
    for row in rows:
        if _digest(row) != row.hash or row.prev_hash in following:
            return row.id  # changed, or a second row claiming the same predecessor
        following[row.prev_hash] = row
    previous, walked = GENESIS, 0
    while previous in following:
        previous = following[previous].hash
        walked += 1
    if walked != len(rows):
        on_chain = _walk_ids(following)
        return min(row.id for row in rows if row.id not in on_chain)
    head = db.get(AuditHead, 1)
    if head is not None and head.last_hash != previous:
        return -1
    return None


def _walk_ids(following: dict[str, AuditEvent]) -> set[int]:
    ids, previous = set(), GENESIS
    while previous in following:
        ids.add(following[previous].id)
        previous = following[previous].hash
    return ids
