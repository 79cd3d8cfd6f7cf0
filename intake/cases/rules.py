"""The rules of a case, each written once.

Overdue (the Python check and the SQL condition share one cut-off), days in a
stage, a definition's label in the reader's language, the team functions' names,
the answers a workflow may read, and record_case_event: the one way a change to
a case is saved with its history row, its audit row and its commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from intake.accounts.models import User
from intake.audit import service as audit
from intake.cases import reasons, stage_counts
from intake.cases.models import Case, CaseHistory
from intake.config import Settings
from intake.definitions import service as definitions
from intake.filling.models import Submission
from intake.i18n import get_locale
from intake.i18n import gettext as _


class CaseError(Exception):
    """A refused change to a case; str(error) is a translated message for the person."""


class NotPermitted(CaseError):
    """The user's role may not do this."""

    def __init__(self) -> None:
        super().__init__(_("Your role may not do this"))


class ConflictError(CaseError):
    """Someone else changed the case since the page was shown; nothing was changed."""

    def __init__(self) -> None:
        super().__init__(_("This case was changed by someone else. Reload to see the change."))


# --- time in a stage ------------------------------------------------------------------


def days_in_stage(*, entered_at: dt.datetime, now: dt.datetime) -> int:
    """Whole days since a case entered its current stage."""
    return max(0, (now - entered_at).days)


def overdue_cutoff(*, sla_days: int, now: dt.datetime) -> dt.datetime:
    """Overdue once the whole days in the stage exceed sla_days: entered at or before this."""
    return now - dt.timedelta(days=sla_days + 1)


def is_overdue(
    *, entered_at: dt.datetime, sla_days: int | None, closed: bool, now: dt.datetime
) -> bool:
    """Whether an open case has been in its stage longer than the stage's sla_days."""
    if sla_days is None or closed:
        return False
    return entered_at <= overdue_cutoff(sla_days=sla_days, now=now)


def overdue_sql(*, stages: Iterable[tuple[str, str, int]], now: dt.datetime) -> ColumnElement[bool]:
    """is_overdue in SQL for (workflow version, stage, sla_days); whether open is the caller's.

    The cut-off is computed here because date arithmetic differs between databases.
    """
    terms = [
        and_(
            Case.workflow_version_id == version_id,
            Case.state == state,
            Case.state_entered_at <= overdue_cutoff(sla_days=sla_days, now=now),
        )
        for version_id, state, sla_days in stages
    ]
    return or_(*terms) if terms else false()


# --- words for the reader ---------------------------------------------------------------


def reader_language(languages: Sequence[str]) -> str:
    """The reader's language if a definition is written in it, else the definition's first."""
    locale = get_locale()
    return locale if locale in languages else languages[0]


def label_in(labels: Mapping[str, str] | None, languages: Sequence[str]) -> str:
    """A definition's per-language text for the reader, else in its first language."""
    if not labels:
        return ""
    return labels.get(get_locale()) or labels.get(languages[0], "") or next(iter(labels.values()))


_FUNCTIONS: Mapping[str, tuple[Callable[[], str], Callable[[], str]]] = {
    "social_worker": (
        lambda: _("Social worker"),
        lambda: _("Needs a social worker on the team"),
    ),
    "psychologist": (
        lambda: _("Psychologist"),
        lambda: _("Needs a psychologist on the team"),
    ),
    "health_specialist": (
        lambda: _("Health specialist"),
        lambda: _("Needs a health specialist on the team"),
    ),
    "pedagogue": (lambda: _("Pedagogue"), lambda: _("Needs a pedagogue on the team")),
    "law_enforcement_liaison": (
        lambda: _("Law-enforcement liaison"),
        lambda: _("Needs a law-enforcement liaison on the team"),
    ),
}


def function_label(function: str) -> str:
    """A team function's name in the reader's language."""
    named = _FUNCTIONS.get(function)
    return named[0]() if named else function


def team_need(function: str | None) -> str:
    """What a missing team function blocks, as a sentence in the reader's language."""
    named = _FUNCTIONS.get(function or "")
    return named[1]() if named else _("Needs another member on the team")


# --- what a workflow may read -------------------------------------------------------------


def readable_answers(*, db: Session, submission: Submission) -> dict[str, Any]:
    """A submission's answers a workflow may read, named `form_key.field`.

    Sensitive answers are ciphertext and are never decrypted for an expression;
    repeat rows and notes are not readable by a workflow either.
    """
    version = definitions.get_version(db=db, version_id=submission.form_version_id)
    if version is None:
        return {}
    form = definitions.compiled_form(version)
    readable = set(form.variable_types()) - form.sensitive_fields
    stored = submission.answers if isinstance(submission.answers, dict) else {}
    return {
        f"{submission.form_key}.{name}": value
        for name, value in stored.items()
        if name in readable and value is not None
    }


# --- changing a case ----------------------------------------------------------------------


def save_case_change(*, db: Session) -> None:
    """Flush pending changes; a case row changed meanwhile rolls back and raises ConflictError."""
    try:
        db.flush()
    except StaleDataError:
        db.rollback()
        raise ConflictError from None


def append_history(
    *,
    db: Session,
    case: Case,
    actor: User,
    kind: str,
    at: dt.datetime,
    settings: Settings | None = None,
    **fields: Any,
) -> CaseHistory:
    """Add one history row (kind, who, their role, when, the case's workflow version);
    a `reason` among the fields is sealed with the settings' data key."""
    reason = str(fields.pop("reason", "") or "")
    row = CaseHistory(
        case_id=case.id,
        at=at,
        kind=kind,
        actor_id=actor.id,
        actor_role=actor.role,
        workflow_version_id=case.workflow_version_id,
        **fields,
    )
    db.add(row)
    if reason:
        if settings is None:
            raise ValueError("a reason is sealed: pass the settings")
        reasons.seal_reason(db=db, settings=settings, row=row, reason=reason)
    return row


def touch_case(*, db: Session, case_id: str, at: dt.datetime) -> None:
    """Mark activity on a case, leaving its row_version alone (a form or a note is no conflict)."""
    db.execute(
        update(Case)
        .where(Case.id == case_id, Case.last_activity_at < at)
        .values(last_activity_at=at)
    )


def record_case_event(
    *,
    db: Session,
    case: Case,
    actor: User,
    action: str | None,
    detail: str = "",
    at: dt.datetime | None = None,
    kind: str | None = None,
    history: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
    audit_conflict: bool = False,
    commit: bool = True,
) -> None:
    """Save the pending change to `case`: conflict check, history row, audit row, commit.

    A case changed meanwhile raises ConflictError (audited as refused with
    `audit_conflict`); `kind` adds a history row, `action` an audit row.
    """
    actor_id, case_id = actor.id, case.id  # read before a rollback expires them
    # The dashboard's counts follow the case in this transaction (a new case is new there).
    counted_before = None if kind == "created" else stage_counts.stored_key(case)
    try:
        save_case_change(db=db)
    except ConflictError:
        if audit_conflict and action:
            refuse(db=db, actor_id=actor_id, case_id=case_id, action=action, code="conflict")
        raise
    stage_counts.moved(db=db, before=counted_before, after=stage_counts.key_of(case))
    if kind is not None:
        append_history(
            db=db,
            case=case,
            actor=actor,
            kind=kind,
            at=at or case.last_activity_at,
            settings=settings,
            **(history or {}),
        )
    if action is not None:
        audit.record(
            db=db,
            action=action,
            actor_id=actor_id,
            object_type="case",
            object_id=case_id,
            detail=detail,
        )
    if commit:
        db.commit()


def refuse(*, db: Session, actor_id: str, case_id: str, action: str, code: str) -> None:
    """Audit a refused change to a case (nothing else is written), and commit."""
    audit.record(
        db=db,
        action=action,
        actor_id=actor_id,
        object_type="case",
        object_id=case_id,
        outcome="refused",
        detail=code,
    )
    db.commit()
