"""Cases: opening one from an intake, and the facts its workflow reads (the team: team.py).

Moving a case between stages lives in intake.cases.stages; both go through
intake.cases.access for every read, and both leave a history row and an audit
row for every change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.audit import service as audit
from intake.cases import consent, references, rules, service_records
from intake.cases.models import Case, CaseHistory, CaseTeamMember
from intake.cases.rules import CaseError as CaseError
from intake.cases.rules import ConflictError as ConflictError
from intake.cases.rules import NotPermitted as NotPermitted
from intake.cases.rules import append_history as append_history
from intake.cases.rules import record_case_event
from intake.cases.rules import save_case_change as save_case_change
from intake.db import utcnow
from intake.definitions import service as definitions
from intake.filling.models import Submission
from intake.i18n import gettext as _
from intake.security.permissions import Permission, has_permission
from intake.workflow.compiled import Workflow
from intake.workflow.engine import CaseFacts, choose_track


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
    case = create_case(
        db=db,
        actor=actor,
        intake_answers=intake_answers,
        submission_ids=submission_ids,
        today=today,
        fingerprint=fingerprint,
    )
    db.commit()
    return case


def create_case(
    *,
    db: Session,
    actor: User,
    intake_answers: Mapping[str, Any],
    submission_ids: Sequence[str],
    today: dt.date,
    fingerprint: str | None = None,
) -> Case:
    """Open a case as open_case does, in the caller's transaction (the caller commits)."""
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
    record_case_event(
        db=db,
        case=case,
        actor=actor,
        action="case.created",
        detail=f"track={workflow.id}",
        at=now,
        kind="created",
        history={"to_state": workflow.initial},
        commit=False,
    )
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
    for submission in latest.values():
        answers.update(rules.readable_answers(db=db, submission=submission))
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
        consents=consent.consented_purposes(db=db, case=case),
        services=service_records.delivered_counts(db=db, case_id=case.id),
    )


def history(*, db: Session, case: Case) -> list[CaseHistory]:
    """Everything that happened to the case, oldest first."""
    return list(
        db.execute(
            select(CaseHistory)
            .where(CaseHistory.case_id == case.id)
            .order_by(CaseHistory.at, CaseHistory.id)
        ).scalars()
    )


def record_view(*, db: Session, user: User, case: Case) -> None:
    """Append a 'case viewed' audit row (who opened which case, never what it holds), and commit."""
    audit.record(
        db=db, action="case.viewed", actor_id=user.id, object_type="case", object_id=case.id
    )
    db.commit()
