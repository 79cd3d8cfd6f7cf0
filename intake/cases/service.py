"""Cases: opening one from an intake, its team, and the facts its workflow reads.

Moving a case between stages lives in intake.workflow.service; both go through
intake.cases.access for every read, and both leave a history row and an audit
row for every change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from intake.accounts.models import Role, User
from intake.audit import service as audit
from intake.cases import references
from intake.cases.access import get_visible_case
from intake.cases.models import Case, CaseHistory, CaseTeamMember
from intake.db import utcnow
from intake.definitions import service as definitions
from intake.forms.models import Submission
from intake.i18n import gettext as _
from intake.security.permissions import Permission, has_permission
from intake.workflow.compiled import Workflow
from intake.workflow.engine import CaseFacts, choose_track
from intake.workflow.schema import TEAM_FUNCTIONS


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


class TeamError(CaseError):
    """A team assignment or removal that cannot be made."""


@dataclass(frozen=True)
class TeamMember:
    """An active team assignment with the person's name, for pages."""

    id: str
    user_id: str
    display_name: str
    function: str


def save_case_change(*, db: Session) -> None:
    """Flush pending changes; a case row changed meanwhile rolls back and raises ConflictError."""
    try:
        db.flush()
    except StaleDataError:
        db.rollback()
        raise ConflictError from None


def append_history(
    *, db: Session, case: Case, actor: User, kind: str, at: dt.datetime, **fields: Any
) -> CaseHistory:
    """Add one history row (kind, who, their role, when, the case's workflow version)."""
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
    return row


def workflow_of(*, db: Session, case: Case) -> Workflow:
    """The compiled workflow version the case runs on."""
    version = definitions.get_version(db=db, version_id=case.workflow_version_id)
    if version is None:  # a foreign key guarantees it; a missing row is a broken database
        raise LookupError("case without its workflow version")
    return definitions.compiled_workflow(db=db, version=version)


# --- opening ----------------------------------------------------------------------


def open_case(
    *,
    db: Session,
    actor: User,
    intake_answers: Mapping[str, Any],
    submission_ids: Sequence[str],
    today: dt.date,
    fingerprint: str | None = None,
) -> Case:
    """Open a case owned by `actor` on the track the intake answers select, and commit."""
    if not has_permission(actor, Permission.CASES_CREATE):
        raise NotPermitted
    current = definitions.current_workflows(db=db)
    if not current:
        raise CaseError(_("No workflow is published yet. Ask an administrator."))
    workflow = choose_track(
        workflows=[wf for _version, wf in current], answers=intake_answers, today=today
    )
    version = next(v for v, wf in current if wf is workflow)
    submissions = _unlinked_submissions(db=db, actor=actor, submission_ids=submission_ids)
    now = utcnow()
    case = _insert_case(
        db=db,
        actor=actor,
        values={
            "organisation_id": actor.organisation_id,
            "owner_id": actor.id,
            "workflow_version_id": version.id,
            "track": workflow.id,
            "state": workflow.initial,
            "state_entered_at": now,
            "created_at": now,
            "last_activity_at": now,
            "fingerprint": fingerprint,
        },
    )
    for submission in submissions:
        submission.case_id = case.id
    append_history(db=db, case=case, actor=actor, kind="created", at=now, to_state=workflow.initial)
    audit.record(
        db=db,
        action="case.created",
        actor_id=actor.id,
        object_type="case",
        object_id=case.id,
        detail=f"track={workflow.id}",
    )
    db.commit()
    return case


def _unlinked_submissions(
    *, db: Session, actor: User, submission_ids: Sequence[str]
) -> list[Submission]:
    wanted = set(submission_ids)
    if not wanted:
        return []
    found = list(
        db.execute(
            select(Submission).where(
                Submission.id.in_(wanted),
                Submission.organisation_id == actor.organisation_id,
                Submission.case_id.is_(None),
            )
        ).scalars()
    )
    if len(found) != len(wanted):
        # One message for unknown, foreign and already linked: it confirms nothing.
        raise CaseError(_("A form of this intake could not be found. Nothing was saved."))
    return found


def _insert_case(*, db: Session, actor: User, values: Mapping[str, Any]) -> Case:
    """Insert the case under a fresh reference, drawing again if another took it meanwhile."""
    for _attempt in range(references.MAX_ATTEMPTS):
        reference = references.unused(db=db)
        case = Case(reference=reference, **values)
        try:
            with db.begin_nested():
                db.add(case)
                db.flush()
        except IntegrityError:
            if references.is_taken(db=db, reference=reference):
                continue
            raise
        return case
    raise references.NoFreeReference


# --- the team -----------------------------------------------------------------------


def active_team(*, db: Session, case: Case) -> list[TeamMember]:
    """Who is on the case's team now, by function then name."""
    rows = db.execute(
        select(CaseTeamMember, User.display_name)
        .join(User, User.id == CaseTeamMember.user_id)
        .where(CaseTeamMember.case_id == case.id, CaseTeamMember.removed_at.is_(None))
        .order_by(CaseTeamMember.function, User.display_name)
    ).all()
    return [
        TeamMember(id=m.id, user_id=m.user_id, display_name=name, function=m.function)
        for m, name in rows
    ]


def team_candidates(*, db: Session, case: Case) -> list[User]:
    """The active people of the case's organisation who may be put on its team."""
    return list(
        db.execute(
            select(User)
            .where(
                User.organisation_id == case.organisation_id,
                User.active.is_(True),
                User.role.in_([Role.OUTREACH_WORKER.value, Role.SUPERVISOR.value]),
            )
            .order_by(User.display_name)
        ).scalars()
    )


def _refuse_team(*, db: Session, actor: User, case: Case, action: str, code: str) -> None:
    audit.record(
        db=db,
        action=action,
        actor_id=actor.id,
        object_type="case",
        object_id=case.id,
        outcome="refused",
        detail=code,
    )
    db.commit()


def assign_team_member(
    *, db: Session, actor: User, case: Case, user_id: str, function: str
) -> CaseTeamMember:
    """Put a person of the case's organisation on its team in `function`, and commit."""
    actor_id, case_id = actor.id, case.id
    if not has_permission(actor, Permission.TEAM_ASSIGN):
        raise NotPermitted
    case = get_visible_case(db=db, user=actor, case_id=case_id)
    problem = _assignment_problem(db=db, case=case, user_id=user_id, function=function)
    if problem is not None:
        code, message = problem
        _refuse_team(db=db, actor=actor, case=case, action="case.team_assigned", code=code)
        raise TeamError(message)
    now = utcnow()
    member = CaseTeamMember(
        case_id=case_id,
        user_id=user_id,
        function=function,
        assigned_at=now,
        assigned_by_id=actor_id,
    )
    db.add(member)
    case.last_activity_at = now
    save_case_change(db=db)
    append_history(
        db=db,
        case=case,
        actor=actor,
        kind="team_assigned",
        at=now,
        subject_user_id=user_id,
        team_function=function,
    )
    audit.record(
        db=db,
        action="case.team_assigned",
        actor_id=actor_id,
        object_type="case",
        object_id=case_id,
        detail=f"function={function} member={member.id}",
    )
    db.commit()
    return member


def _assignment_problem(
    *, db: Session, case: Case, user_id: str, function: str
) -> tuple[str, str] | None:
    if case.closed_at is not None:
        return "closed", _("This case is closed.")
    if function not in TEAM_FUNCTIONS:
        return "unknown_function", _("Choose a function from the list.")
    person = db.get(User, user_id[:32]) if user_id else None
    candidates = {Role.OUTREACH_WORKER.value, Role.SUPERVISOR.value}
    if (
        person is None
        or person.organisation_id != case.organisation_id
        or not person.active
        or person.role not in candidates
    ):
        # The same words for an unknown id and for someone of another organisation.
        return "unknown_person", _("Choose a colleague of your organisation from the list.")
    already = db.execute(
        select(CaseTeamMember.id).where(
            CaseTeamMember.case_id == case.id,
            CaseTeamMember.user_id == user_id,
            CaseTeamMember.function == function,
            CaseTeamMember.removed_at.is_(None),
        )
    ).first()
    if already is not None:
        return "already_assigned", _("This person already has this function on the team.")
    return None


def remove_team_member(*, db: Session, actor: User, case: Case, member_id: str) -> None:
    """Take an assignment off the case's team (the row is kept, marked removed), and commit."""
    actor_id, case_id = actor.id, case.id
    if not has_permission(actor, Permission.TEAM_ASSIGN):
        raise NotPermitted
    case = get_visible_case(db=db, user=actor, case_id=case_id)
    member = db.execute(
        select(CaseTeamMember).where(
            CaseTeamMember.id == member_id[:32],
            CaseTeamMember.case_id == case_id,
            CaseTeamMember.removed_at.is_(None),
        )
    ).scalar_one_or_none()
    if member is None:
        _refuse_team(db=db, actor=actor, case=case, action="case.team_removed", code="unknown")
        raise TeamError(_("This person is no longer on the team."))
    now = utcnow()
    member.removed_at = now
    case.last_activity_at = now
    save_case_change(db=db)
    append_history(
        db=db,
        case=case,
        actor=actor,
        kind="team_removed",
        at=now,
        subject_user_id=member.user_id,
        team_function=member.function,
    )
    audit.record(
        db=db,
        action="case.team_removed",
        actor_id=actor_id,
        object_type="case",
        object_id=case_id,
        detail=f"function={member.function} member={member.id}",
    )
    db.commit()


# --- what the workflow reads, and what a page shows ------------------------------------


def latest_submissions(*, db: Session, case: Case) -> dict[str, Submission]:
    """The newest submission of each form filled in this case, by form key."""
    rows = db.execute(
        select(Submission)
        .where(Submission.case_id == case.id)
        .order_by(Submission.submitted_at, Submission.id)
    ).scalars()
    # Filling a form again adds a row; the newest one speaks for the form.
    return {row.form_key: row for row in rows}


def case_facts(*, db: Session, case: Case, today: dt.date) -> CaseFacts:
    """What the case's workflow guards may read: forms filled, team, non-sensitive answers."""
    latest = latest_submissions(db=db, case=case)
    answers: dict[str, Any] = {}
    for form_key, submission in latest.items():
        answers.update(_readable_answers(db=db, form_key=form_key, submission=submission))
    team = db.execute(
        select(CaseTeamMember.function).where(
            CaseTeamMember.case_id == case.id, CaseTeamMember.removed_at.is_(None)
        )
    ).scalars()
    return CaseFacts(
        state=case.state,
        completed_forms=frozenset(latest),
        team_functions=frozenset(team),
        answers=answers,
        today=today,
    )


def _readable_answers(*, db: Session, form_key: str, submission: Submission) -> dict[str, Any]:
    version = definitions.get_version(db=db, version_id=submission.form_version_id)
    if version is None:
        return {}
    form = definitions.compiled_form(version)
    # Sensitive answers are ciphertext and are never decrypted for an expression;
    # repeat rows and notes are not readable by a workflow either.
    readable = set(form.variable_types()) - form.sensitive_fields
    stored = submission.answers if isinstance(submission.answers, dict) else {}
    return {
        f"{form_key}.{name}": value
        for name, value in stored.items()
        if name in readable and value is not None
    }


def history(*, db: Session, case: Case) -> list[CaseHistory]:
    """Everything that happened to the case, oldest first."""
    return list(
        db.execute(
            select(CaseHistory)
            .where(CaseHistory.case_id == case.id)
            .order_by(CaseHistory.at, CaseHistory.id)
        ).scalars()
    )


def days_in_stage(*, case: Case, now: dt.datetime) -> int:
    """Whole days since the case entered its current stage."""
    return max(0, (now - case.state_entered_at).days)


def record_view(*, db: Session, user: User, case: Case) -> None:
    """Append a 'case viewed' audit row (who opened which case, never what it holds), and commit."""
    audit.record(
        db=db, action="case.viewed", actor_id=user.id, object_type="case", object_id=case.id
    )
    db.commit()
