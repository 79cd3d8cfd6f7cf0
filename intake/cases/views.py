"""The case page and the actions on it: fire a transition, change the team, change track.

Routes only parse, call a service and render. Every case is found through
intake.cases.access, so a case the user may not see is a 404 like a made-up id.
A refused action shows the case again with the reason, status 409 or 422; for
htmx the same block is swapped in with status 200, because htmx does not swap
an error response and the person must see why nothing happened.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from intake import web
from intake.accounts.models import User
from intake.audit import service as audit
from intake.cases import answers, caseload_views, intake_views, rules, service, stages, team
from intake.cases import notes as case_notes
from intake.cases import overlaps as overlap
from intake.cases.access import CaseNotFound, get_visible_case
from intake.cases.consent import summary as consent_summary
from intake.cases.models import Case
from intake.cases.rules import function_label, label_in
from intake.cases.timeline import timeline
from intake.db import DbSession, utcnow
from intake.definitions import service as definitions
from intake.filling.drafts import new_client_id
from intake.security.permissions import Permission, has_permission, require
from intake.workflow.schema import TEAM_FUNCTIONS

router = APIRouter()
router.include_router(caseload_views.router)
router.include_router(intake_views.router)

CaseViewer = Annotated[User, Depends(require(Permission.CASES_VIEW))]
TeamAssigner = Annotated[User, Depends(require(Permission.TEAM_ASSIGN))]
CaseAdvancer = Annotated[User, Depends(require(Permission.CASES_ADVANCE))]
_OPAQUE_ID = re.compile(r"[0-9a-f]{32}")


def _case(
    db: Session, user: User, case_id: str, *, action: str = "case.viewed", refresh: bool = False
) -> Case:
    try:
        return get_visible_case(db=db, user=user, case_id=case_id, refresh=refresh)
    except CaseNotFound:
        # Probing for cases leaves a trace; a malformed id is not copied into the trail.
        audit.record(
            db=db,
            action=action,
            actor_id=user.id,
            object_type="case",
            object_id=case_id if _OPAQUE_ID.fullmatch(case_id) else "",
            outcome="refused",
            detail="not_found",
        )
        db.commit()
        raise HTTPException(status_code=404) from None


def _stage_forms(db: Session, case: Case, keys: Sequence[str]) -> list[dict[str, Any]]:
    submitted = service.latest_submissions(db=db, case=case)
    forms = []
    for key in keys:
        version = definitions.latest(db=db, kind="form", key=key)
        form = definitions.compiled_form(version) if version else None
        title = label_in(form.title, form.languages) if form else key
        # A client id made with the page: a double tap on "Fill in" opens one filling.
        forms.append(
            {
                "key": key,
                "title": title,
                "submitted": submitted.get(key),
                "client_id": new_client_id(),
            }
        )
    return forms


def _tracks(db: Session, user: User, case: Case) -> list[dict[str, Any]]:
    tracks: list[dict[str, Any]] = []
    if not has_permission(user, Permission.CASES_ADVANCE) or case.closed_at is not None:
        return tracks
    for _version, wf in definitions.current_workflows(db=db):
        if wf.id != case.track:
            stages = [
                (name, label_in(s.label, wf.languages))
                for name, s in wf.states.items()
                if not s.final
            ]
            tracks.append(
                {"id": wf.id, "title": label_in(wf.title, wf.languages), "stages": stages}
            )
    return tracks


def _context(request: Request, db: Session, user: User, case: Case) -> dict[str, Any]:
    settings = request.app.state.settings
    now = utcnow()
    workflow = service.workflow_of(db=db, case=case)
    state = workflow.states[case.state]
    days = rules.days_in_stage(entered_at=case.state_entered_at, now=now)
    actions = stages.actions_for(db=db, case=case, user=user, today=now.date())
    need_to_know = case_notes.may_read_sensitive(db=db, user=user, case=case)
    is_open = case.closed_at is None
    return {
        "case": case,
        "track_title": label_in(workflow.title, workflow.languages),
        "stage_label": label_in(state.label, workflow.languages),
        "days_in_stage": days,
        "sla_days": state.sla_days,
        "overdue": rules.is_overdue(
            entered_at=case.state_entered_at, sla_days=state.sla_days, closed=not is_open, now=now
        ),
        "stage_forms": _stage_forms(db, case, state.forms),
        "can_fill": has_permission(user, Permission.CASES_CREATE) and is_open,
        "actions": [
            {
                "trigger": a.action.trigger,
                "label": label_in(a.action.label, workflow.languages),
                "requires_reason": a.action.requires_reason,
                "ready": a.action.ready,
                "reasons": a.reasons,
            }
            for a in actions
        ],
        "team": team.active_team(db=db, case=case),
        "can_assign": has_permission(user, Permission.TEAM_ASSIGN) and is_open,
        "candidates": team.team_candidates(db=db, case=case),
        "functions": sorted(TEAM_FUNCTIONS),
        "function_label": function_label,
        "tracks": _tracks(db, user, case),
        "overlaps": overlap.overlaps_of(db=db, case=case, asker=user),
        "consent": consent_summary(db=db, case=case),
        "consent_client_id": new_client_id(),
        "need_to_know": need_to_know,
        "can_note": need_to_know and is_open,
        "filled": answers.filled_forms(db=db, settings=settings, case=case, sensitive=need_to_know),
        "timeline": timeline(db=db, settings=settings, case=case, with_notes=need_to_know),
    }


def _page(
    request: Request,
    db: Session,
    user: User,
    case: Case,
    *,
    errors: Sequence[str] = (),
    status_code: int = 200,
    **extra: Any,
) -> Response:
    context = {**_context(request, db, user, case), "errors": list(errors), **extra}
    if web.is_htmx(request):
        status_code = 200
    return web.render(request, "cases/case.html", context, status_code=status_code, block="case")


def _done(request: Request, db: Session, user: User, case_id: str) -> Response:
    if web.is_htmx(request):
        return _page(request, db, user, _case(db, user, case_id, refresh=True))
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


def _refused(
    request: Request, db: Session, user: User, case_id: str, error: service.CaseError
) -> Response:
    status = 409 if isinstance(error, service.ConflictError) else 422
    if isinstance(error, service.NotPermitted):
        status = 403
    reasons = getattr(error, "reasons", None) or [str(error)]
    case = _case(db, user, case_id, refresh=True)
    return _page(request, db, user, case, errors=reasons, status_code=status)


@router.get("/cases/{case_id}")
def case_page(request: Request, db: DbSession, user: CaseViewer, case_id: str) -> Response:
    case = _case(db, user, case_id)
    service.record_view(db=db, user=user, case=case)
    return _page(request, db, user, case)


@router.post("/cases/{case_id}/transitions")
def fire_transition(
    request: Request,
    db: DbSession,
    user: CaseViewer,
    case_id: str,
    row_version: Annotated[int, Form()],
    trigger: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    # Who may fire what is the definition's `roles` (outreach workers may record
    # lost contact), so this route asks only to see the case.
    case = _case(db, user, case_id, action="case.transition")
    try:
        stages.fire_transition(
            db=db,
            case=case,
            user=user,
            trigger=trigger,
            reason=reason,
            expected_row_version=row_version,
        )
    except service.CaseError as error:
        return _refused(request, db, user, case_id, error)
    return _done(request, db, user, case_id)


@router.post("/cases/{case_id}/team")
def assign_team_member(
    request: Request,
    db: DbSession,
    user: TeamAssigner,
    case_id: str,
    user_id: Annotated[str, Form(max_length=32)] = "",
    function: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    case = _case(db, user, case_id, action="case.team_assigned")
    try:
        team.assign_team_member(db=db, actor=user, case=case, user_id=user_id, function=function)
    except service.CaseError as error:
        return _refused(request, db, user, case_id, error)
    return _done(request, db, user, case_id)


@router.post("/cases/{case_id}/team/{member_id}/remove")
def remove_team_member(
    request: Request, db: DbSession, user: TeamAssigner, case_id: str, member_id: str
) -> Response:
    case = _case(db, user, case_id, action="case.team_removed")
    try:
        team.remove_team_member(db=db, actor=user, case=case, member_id=member_id)
    except service.CaseError as error:
        return _refused(request, db, user, case_id, error)
    return _done(request, db, user, case_id)


@router.post("/cases/{case_id}/track")
def change_track(
    request: Request,
    db: DbSession,
    user: CaseAdvancer,
    case_id: str,
    row_version: Annotated[int, Form()],
    track: Annotated[str, Form(max_length=130)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    # One select offers "track:stage" pairs, so a phone needs no script to match them.
    workflow_key, _sep, state = track.partition(":")
    case = _case(db, user, case_id, action="case.track_changed")
    try:
        stages.change_track(
            db=db,
            case=case,
            user=user,
            workflow_key=workflow_key,
            state=state,
            reason=reason,
            expected_row_version=row_version,
        )
    except service.CaseError as error:
        return _refused(request, db, user, case_id, error)
    return _done(request, db, user, case_id)


@router.post("/cases/{case_id}/notes")
def add_note(
    request: Request,
    db: DbSession,
    user: CaseViewer,
    case_id: str,
    text: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    # Seeing the case is not enough to write on it: notes.add_note asks need to know.
    case = _case(db, user, case_id, action="case.note_added")
    try:
        case_notes.add_note(
            db=db, settings=request.app.state.settings, actor=user, case=case, text=text
        )
    except service.CaseError as error:
        return _refused(request, db, user, case_id, error)
    return _done(request, db, user, case_id)
