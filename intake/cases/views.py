"""The case page and the actions on it: fire a transition, change the team, change track.

Routes only parse, call a service and render. Every case comes through
intake.deps.visible_case, so a case the user may not see is a 404 like a made-up
id. A refused action (a CaseError) shows the case again with the reason, status
409 or 422, through the one handler in intake.app: htmx swaps those two
(base.html's htmx-config), so the person sees why nothing happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker

from intake import web
from intake.accounts.models import User
from intake.cases import access, answers, caseload_views, intake_views, rules, service, stages, team
from intake.cases import notes as case_notes
from intake.cases import overlaps as overlap
from intake.cases.consent import summary as consent_summary
from intake.cases.models import Case
from intake.cases.rules import CaseError, ConflictError, NotPermitted, function_label, label_in
from intake.cases.timeline import timeline
from intake.db import read_transaction, utcnow
from intake.definitions import service as definitions
from intake.deps import (
    CaseAdvancer,
    CaseViewer,
    DbSession,
    SettingsDep,
    TeamAssigner,
    VisibleCase,
    find_case,
    get_settings,
    visible_case,
)
from intake.filling.drafts import new_client_id
from intake.security.permissions import Permission, has_permission
from intake.workflow.schema import TEAM_FUNCTIONS

router = APIRouter()
router.include_router(caseload_views.router)
router.include_router(intake_views.router)


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
    settings = get_settings(request)
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
    return web.render(request, "cases/case.html", context, status_code=status_code, block="case")


def _done(request: Request, db: Session, user: User, case: Case, action: str) -> Response:
    if web.is_htmx(request):
        case = find_case(db=db, user=user, case_id=case.id, action=action, refresh=True)
        return _page(request, db, user, case)
    return RedirectResponse(f"/cases/{case.id}", status_code=303)


def refused_page(request: Request, error: CaseError) -> Response:
    """The case page again with the reasons an action was refused: 409, 422 or 403.

    The request's own session may have been rolled back, so the page is read afresh
    (CaseNotFound if the case is no longer visible)."""
    status = 409 if isinstance(error, ConflictError) else 422
    if isinstance(error, NotPermitted):
        status = 403
    reasons = getattr(error, "reasons", None) or [str(error)]
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as db, read_transaction(db):
        user = db.get(User, inspect(request.state.user).identity[0])
        if user is None:
            raise access.CaseNotFound
        case = access.get_visible_case(db=db, user=user, case_id=request.path_params["case_id"])
        return _page(request, db, user, case, errors=reasons, status_code=status)


@router.get("/cases/{case_id}")
def case_page(request: Request, db: DbSession, user: CaseViewer, case: VisibleCase) -> Response:
    service.record_view(db=db, user=user, case=case)
    return _page(request, db, user, case)


@router.post("/cases/{case_id}/transitions")
def fire_transition(
    request: Request,
    db: DbSession,
    user: CaseViewer,
    case: Annotated[Case, Depends(visible_case("case.transition"))],
    row_version: Annotated[int, Form()],
    trigger: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    # Who may fire what is the definition's `roles` (outreach workers may record
    # lost contact), so this route asks only to see the case.
    stages.fire_transition(
        db=db,
        case=case,
        user=user,
        trigger=trigger,
        reason=reason,
        expected_row_version=row_version,
    )
    return _done(request, db, user, case, "case.transition")


@router.post("/cases/{case_id}/team")
def assign_team_member(
    request: Request,
    db: DbSession,
    user: TeamAssigner,
    case: Annotated[Case, Depends(visible_case("case.team_assigned", Permission.TEAM_ASSIGN))],
    user_id: Annotated[str, Form(max_length=32)] = "",
    function: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    team.assign_team_member(db=db, actor=user, case=case, user_id=user_id, function=function)
    return _done(request, db, user, case, "case.team_assigned")


@router.post("/cases/{case_id}/team/{member_id}/remove")
def remove_team_member(
    request: Request,
    db: DbSession,
    user: TeamAssigner,
    case: Annotated[Case, Depends(visible_case("case.team_removed", Permission.TEAM_ASSIGN))],
    member_id: str,
) -> Response:
    team.remove_team_member(db=db, actor=user, case=case, member_id=member_id)
    return _done(request, db, user, case, "case.team_removed")


@router.post("/cases/{case_id}/track")
def change_track(
    request: Request,
    db: DbSession,
    user: CaseAdvancer,
    case: Annotated[Case, Depends(visible_case("case.track_changed", Permission.CASES_ADVANCE))],
    row_version: Annotated[int, Form()],
    track: Annotated[str, Form(max_length=130)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    # One select offers "track:stage" pairs, so a phone needs no script to match them.
    workflow_key, _sep, state = track.partition(":")
    stages.change_track(
        db=db,
        case=case,
        user=user,
        workflow_key=workflow_key,
        state=state,
        reason=reason,
        expected_row_version=row_version,
    )
    return _done(request, db, user, case, "case.track_changed")


@router.post("/cases/{case_id}/notes")
def add_note(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    user: CaseViewer,
    case: Annotated[Case, Depends(visible_case("case.note_added"))],
    text: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    # Seeing the case is not enough to write on it: notes.add_note asks need to know.
    case_notes.add_note(db=db, settings=settings, actor=user, case=case, text=text)
    return _done(request, db, user, case, "case.note_added")
