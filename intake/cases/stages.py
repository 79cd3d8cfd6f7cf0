"""Moving a case through its track: what a user may do now, doing it, changing track.

The workflow engine (intake.workflow.engine) decides; this module reads the case's facts
from the database, stores the outcome in one transaction with its history and
audit rows, and turns every refusal into a translated message naming what is
missing. A refusal changes nothing but is itself committed to the audit trail.

Concurrent changes: the page carries the case's `row_version`; a different
version is a stale page, and the ORM's version counter catches a change that
lands between reading and writing. Both become ConflictError.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import blocked, consent, rules
from intake.cases import service as cases
from intake.cases.access import get_visible_case
from intake.cases.models import Case
from intake.config import Settings
from intake.db import utcnow
from intake.definitions import service as definitions
from intake.i18n import gettext as _
from intake.security.permissions import Permission, has_permission
from intake.workflow import engine
from intake.workflow.compiled import Workflow
from intake.workflow.engine import Action, Blocker, FireResult, TransitionRefused

__all__ = [
    "ConflictError",
    "TrackChangeRefused",
    "TransitionNotAllowed",
    "actions_for",
    "change_track",
    "describe_blockers",
    "fire_transition",
]

ConflictError = cases.ConflictError


class TransitionNotAllowed(cases.CaseError):
    """A refused transition: `code` is the engine's, `reasons` are translated sentences."""

    def __init__(self, code: str, reasons: Sequence[str]) -> None:
        self.code = code
        self.reasons = list(reasons)
        super().__init__(" ".join(self.reasons))


class TrackChangeRefused(cases.CaseError):
    """A track change that cannot be made; the message says why."""


@dataclass(frozen=True)
class ActionView:
    """An action as a page offers it: the engine's action and what blocks it, in plain words."""

    action: Action
    reasons: tuple[str, ...]


def _form_title(*, db: Session, form_key: str) -> str:
    version = definitions.latest(db=db, kind="form", key=form_key)
    if version is None:
        return form_key
    form = definitions.compiled_form(version)
    return form.text(form.title, rules.reader_language(form.languages))


def describe_blockers(
    *, db: Session, blockers: Sequence[Blocker], stage_forms: Collection[str] = ()
) -> list[str]:
    """Each blocker as a sentence in the reader's language ('Needs: Temporary housing form');
    a form's or a condition's sentence also links to where `stage_forms` are filled in."""
    sentences: list[str] = []

    def title_of(key: str) -> str:
        return _form_title(db=db, form_key=key)

    for blocker in blockers:
        if blocker.code == "missing_form" and blocker.subject:
            sentences.append(
                blocked.form_reason(blocker, title_of=title_of, stage_forms=stage_forms)
            )
        elif blocker.code == "missing_services":
            sentences.append(blocked.services_reason(blocker))
        elif blocker.code == "missing_team":
            sentences.append(rules.team_need(blocker.subject))
        elif blocker.code == "missing_consent":
            sentences.append(consent.missing_consent_reason(blocker.subject or ""))
        elif blocker.code == "condition_not_met":
            sentences.append(
                blocked.condition_reason(blocker, title_of=title_of, stage_forms=stage_forms)
            )
        elif blocker.code == "reason_required":
            sentences.append(_("A reason is required"))
        else:
            sentences.append(_("Your role may not do this"))
    return sentences


def actions_for(*, db: Session, case: Case, user: User, today: dt.date) -> list[ActionView]:
    """The transitions the user's role may fire from the case's stage, with what blocks each now."""
    if not has_permission(user, Permission.CASES_VIEW) or case.closed_at is not None:
        return []
    workflow = cases.workflow_of(db=db, case=case)
    facts = cases.case_facts(db=db, case=case, today=today)
    found = engine.available_actions(workflow=workflow, facts=facts, role=user.role)
    # Actions of other roles are left out: a page lists what this person can do.
    # A missing reason is not listed: the page asks for one with the action.
    return [
        ActionView(
            action=a,
            reasons=tuple(
                describe_blockers(
                    db=db,
                    blockers=[b for b in a.blockers if b.code != "reason_required"],
                    stage_forms=workflow.states[case.state].forms,
                )
            ),
        )
        for a in found
        if not any(b.code == "role_not_allowed" for b in a.blockers)
    ]


def _refusal_reasons(*, db: Session, refused: TransitionRefused) -> list[str]:
    if refused.code == "role_not_allowed":
        return [_("Your role may not do this")]
    if refused.code == "reason_required":
        return [_("A reason is required")]
    if refused.code == "guard_failed":
        return describe_blockers(db=db, blockers=refused.details.get("blockers", ()))
    return [_("Not possible from this stage")]


def _audit_refusal(*, db: Session, action: str, user_id: str, case_id: str, detail: str) -> None:
    rules.refuse(db=db, actor_id=user_id, case_id=case_id, action=action, code=detail)


def fire_transition(
    *,
    db: Session,
    settings: Settings,
    case: Case,
    user: User,
    trigger: str,
    reason: str | None,
    expected_row_version: int,
    today: dt.date | None = None,
) -> FireResult:
    """Fire `trigger` on the case in one transaction, or raise and change nothing."""
    # A POST's transaction holds SQLite's write lock from its first statement
    # (intake.db), so a read is never refused its upgrade to a write here.
    return _fire_once(
        db=db,
        settings=settings,
        user=user,
        user_id=user.id,
        case_id=case.id,
        trigger=trigger[:64],
        reason=(reason or "").strip()[:2000] or None,
        expected_row_version=expected_row_version,
        today=today or utcnow().date(),
    )


def _fire_once(
    *,
    db: Session,
    settings: Settings,
    user: User,
    user_id: str,
    case_id: str,
    trigger: str,
    reason: str | None,
    expected_row_version: int,
    today: dt.date,
) -> FireResult:
    action = "case.transition"
    # Read the row again: the caller's copy may predate someone else's commit.
    case = get_visible_case(db=db, user=user, case_id=case_id, refresh=True)
    if case.row_version != expected_row_version:
        _audit_refusal(db=db, action=action, user_id=user_id, case_id=case_id, detail="conflict")
        raise ConflictError
    workflow = cases.workflow_of(db=db, case=case)
    facts = cases.case_facts(db=db, case=case, today=today)
    try:
        result = engine.fire(
            workflow=workflow, facts=facts, role=user.role, trigger=trigger, reason=reason
        )
    except TransitionRefused as refused:
        reasons = _refusal_reasons(db=db, refused=refused)
        detail = (
            f"{refused.code} trigger={trigger}" if trigger in workflow.triggers else refused.code
        )
        _audit_refusal(db=db, action=action, user_id=user_id, case_id=case_id, detail=detail)
        raise TransitionNotAllowed(refused.code, reasons) from None
    now = utcnow()
    case.state = result.new_state
    case.state_entered_at = now
    case.last_activity_at = now
    case.closed_at = now if workflow.states[result.new_state].final else None
    _save_stage_change(
        db=db,
        settings=settings,
        case=case,
        user=user,
        action=action,
        history=_StageChange("transition", now, result.previous_state, result.new_state),
        trigger=trigger,
        reason=reason or "",
        detail=f"trigger={trigger}",
    )
    return result


@dataclass(frozen=True)
class _StageChange:
    kind: str  # the history row's kind
    at: dt.datetime
    from_state: str
    to_state: str


def _save_stage_change(
    *,
    db: Session,
    settings: Settings,
    case: Case,
    user: User,
    action: str,
    history: _StageChange,
    trigger: str = "",
    reason: str,
    detail: str,
) -> None:
    """Write a changed case (409 and an audited refusal if it changed meanwhile), its
    history row and its audit row, and commit."""
    rules.record_case_event(
        db=db,
        case=case,
        actor=user,
        action=action,
        detail=detail,
        at=history.at,
        kind=history.kind,
        history={
            "trigger": trigger,
            "from_state": history.from_state,
            "to_state": history.to_state,
            "reason": reason,
        },
        settings=settings,
        audit_conflict=True,
    )


def change_track(
    *,
    db: Session,
    settings: Settings,
    case: Case,
    user: User,
    workflow_key: str,
    state: str,
    reason: str | None,
    expected_row_version: int,
) -> Case:
    """Move the case to another track's stage (supervisors, with a reason), and commit."""
    user_id, case_id = user.id, case.id
    action = "case.track_changed"
    if not has_permission(user, Permission.CASES_ADVANCE):
        _audit_refusal(db=db, action=action, user_id=user_id, case_id=case_id, detail="role")
        raise cases.NotPermitted
    case = get_visible_case(db=db, user=user, case_id=case_id, refresh=True)
    if case.row_version != expected_row_version:
        _audit_refusal(db=db, action=action, user_id=user_id, case_id=case_id, detail="conflict")
        raise ConflictError
    reason = (reason or "").strip()[:2000]
    target = next(
        ((v, wf) for v, wf in definitions.current_workflows(db=db) if wf.id == workflow_key),
        None,
    )
    problem = _track_change_problem(case=case, target=target, state=state, reason=reason)
    if problem is not None or target is None:
        code, message = problem or ("unknown_track", "")
        _audit_refusal(db=db, action=action, user_id=user_id, case_id=case_id, detail=code)
        raise TrackChangeRefused(message)
    version, workflow = target
    now = utcnow()
    previous_state = case.state
    case.track, case.workflow_version_id, case.state = workflow.id, version.id, state
    case.state_entered_at = case.last_activity_at = now
    # The track left is the one of the row before; this row names the new version.
    _save_stage_change(
        db=db,
        settings=settings,
        case=case,
        user=user,
        action=action,
        history=_StageChange("track_changed", now, previous_state, state),
        reason=reason,
        detail=f"track={workflow.id} state={state}",
    )
    return case


def _track_change_problem(
    *, case: Case, target: tuple[object, Workflow] | None, state: str, reason: str
) -> tuple[str, str] | None:
    if case.closed_at is not None:
        return "closed", _("This case is closed.")
    if target is None:
        return "unknown_track", _("Choose a track from the list.")
    workflow = target[1]
    if workflow.id == case.track:
        # Moving within the same track would skip its guards: that is what transitions are for.
        return "same_track", _("The case is already on this track.")
    known = workflow.states.get(state)
    if known is None or known.final:
        return "unknown_state", _("Choose a stage of the new track from the list.")
    if not reason:
        return "reason_required", _("A reason is required")
    return None
