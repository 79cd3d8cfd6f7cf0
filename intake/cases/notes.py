"""Notes on a case, and who may read what is sensitive about a case.

A note may say where a person sleeps or what happened to them: it is sealed
with field_crypto, bound to its own id, and read only by the case's active
team and its organisation's supervisors (need to know). The same rule decides
who sees a case's sensitive answers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import team
from intake.cases.access import get_visible_case
from intake.cases.models import Case, CaseNote
from intake.cases.rules import CaseError, NotPermitted, record_case_event, refuse, touch_case
from intake.config import Settings
from intake.db import new_id, utcnow
from intake.forms.storage import keyring_for
from intake.i18n import gettext as _
from intake.security.field_crypto import decrypt_value, encrypt_value
from intake.security.permissions import Permission, has_permission

MAX_NOTE = 5000


class NoteError(CaseError):
    """A note that cannot be added; the message says why."""


@dataclass(frozen=True)
class Note:
    """A note in the clear, for someone with need to know."""

    id: str
    at: dt.datetime
    author_id: str
    author_role: str
    text: str


def may_read_sensitive(*, db: Session, user: User, case: Case) -> bool:
    """Whether `user` may read the case's sensitive answers and notes: its team and supervisors."""
    if case.organisation_id != user.organisation_id or not user.active:
        return False
    if has_permission(user, Permission.CASES_ORGANISATION):
        return True
    # The owner who is no longer (or never was) on the team keeps the case in
    # their list but not the person's name, address or story.
    return team.is_on_team(db=db, case=case, user=user)


def _context(note_id: str) -> str:
    return f"note:{note_id}"


def add_note(*, db: Session, settings: Settings, actor: User, case: Case, text: str) -> CaseNote:
    """Seal and add a note to the case (team and supervisors only), and commit."""
    actor_id, case_id = actor.id, case.id
    case = get_visible_case(db=db, user=actor, case_id=case_id)
    text = text.strip()
    problem: tuple[str, CaseError] | None = None
    if not may_read_sensitive(db=db, user=actor, case=case):
        problem = "role", NotPermitted()
    elif case.closed_at is not None:
        problem = "closed", NoteError(_("This case is closed."))
    elif not text:
        problem = "empty", NoteError(_("Write the note first."))
    elif len(text) > MAX_NOTE:
        problem = "too_long", NoteError(_("A note may have at most 5,000 characters."))
    if problem is not None:
        code, error = problem
        refuse(db=db, actor_id=actor_id, case_id=case_id, action="case.note_added", code=code)
        raise error
    now = utcnow()
    note_id = new_id()
    sealed = encrypt_value(keyring=keyring_for(settings), value=text, context=_context(note_id))
    note = CaseNote(
        id=note_id,
        case_id=case_id,
        author_id=actor_id,
        author_role=actor.role,
        created_at=now,
        sealed_text=sealed,
    )
    db.add(note)
    # Activity for the caseload, without touching row_version: a note is no conflict.
    db.flush()
    touch_case(db=db, case_id=case_id, at=now)
    record_case_event(
        db=db, case=case, actor=actor, action="case.note_added", detail=f"note={note_id}"
    )
    return note


def _written_here(case: Case) -> ColumnElement[bool]:
    """Notes by the case's own organisation: a transferred case's earlier notes stay with the
    organisation that wrote them (intake.referrals.transfers)."""
    return CaseNote.author_id.in_(
        select(User.id).where(User.organisation_id == case.organisation_id)
    )


def notes_of(*, db: Session, settings: Settings, case: Case) -> list[Note]:
    """The case's notes in the clear, oldest first (the caller checks may_read_sensitive)."""
    keyring = keyring_for(settings)
    rows = db.execute(
        select(CaseNote)
        .where(CaseNote.case_id == case.id, _written_here(case))
        .order_by(CaseNote.created_at, CaseNote.id)
    ).scalars()
    return [
        Note(
            id=row.id,
            at=row.created_at,
            author_id=row.author_id,
            author_role=row.author_role,
            text=decrypt_value(keyring=keyring, token=row.sealed_text, context=_context(row.id)),
        )
        for row in rows
    ]


def note_stamps(*, db: Session, case: Case) -> list[tuple[dt.datetime, str, str]]:
    """When and by whom each note was added (no text), for readers without need to know."""
    rows = db.execute(
        select(CaseNote.created_at, CaseNote.author_id, CaseNote.author_role)
        .where(CaseNote.case_id == case.id, _written_here(case))
        .order_by(CaseNote.created_at, CaseNote.id)
    ).all()
    return [(at, author, role) for at, author, role in rows]
