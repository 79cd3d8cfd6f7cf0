"""Append to and verify the audit trail."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
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
    """Append one row in the caller's transaction (committed with the action it records)."""
    head = db.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_hash=GENESIS)
        db.add(head)
    event = AuditEvent(
        at=utcnow(),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        detail=detail[:200],
        prev_hash=head.last_hash,
    )
    event.hash = _digest(event)
    head.last_hash = event.hash
    db.add(event)
    db.flush()
    return event


def verify_chain(*, db: Session) -> int | None:
    """The id of the first row whose hash or link is wrong, or None when the chain holds."""
    previous = GENESIS
    for event in db.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
        if event.prev_hash != previous or _digest(event) != event.hash:
            return event.id
        previous = event.hash
    head = db.get(AuditHead, 1)
    if head is not None and head.last_hash != previous:
        return -1
    return None
