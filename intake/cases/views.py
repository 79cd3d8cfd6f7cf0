"""The case page and the actions on it: fire a transition, change the team, change track.

Routes only parse, call a service and render. Every case comes through
intake.deps.visible_case, so a case the user may not see is a 404 like a made-up
id. A refused action (a CaseError) shows the case again with the reason, status
409 or 422, through the one handler in intake.app: htmx swaps those two
(base.html's htmx-config), so the person sees why nothing happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker

from intake import web
from intake.accounts.models import User
from intake.cases import access, caseload_views, intake_views, service, stages, team
from intake.cases import notes as case_notes
from intake.cases.case_page import page_context, record_section
from intake.cases.models import Case
from intake.cases.rules import CaseError, ConflictError, NotPermitted
from intake.db import read_transaction, utcnow
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
from intake.security.permissions import Permission

router = APIRouter()
router.include_router(caseload_views.router)
router.include_router(intake_views.router)


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
    context = page_context(
        db=db, settings=get_settings(request), case=case, user=user, now=utcnow()
    )
    context.update(errors=list(errors), **extra)
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
        response = _page(request, db, user, case, errors=reasons, status_code=status)
    if web.is_htmx(request):
        # The reasons show at the top of the case, whichever section the form targeted.
        response.headers["HX-Retarget"] = "#case"
        response.headers["HX-Reswap"] = "outerHTML"
    return response


@router.get("/cases/{case_id}")
def case_page(request: Request, db: DbSession, user: CaseViewer, case: VisibleCase) -> Response:
    service.record_view(db=db, user=user, case=case)
    return _page(request, db, user, case)


@router.post("/cases/{case_id}/transitions")
def fire_transition(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
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
        settings=settings,
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
    user_id: Annotated[list[str] | None, Form(max_length=32)] = None,
    function: Annotated[list[str] | None, Form(max_length=40)] = None,
) -> Response:
    # One row per function: a hidden function and the person picked for it ("" for nobody).
    team.assign_team_members(
        db=db, actor=user, case=case, functions=function or [], user_ids=user_id or []
    )
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
    settings: SettingsDep,
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
        settings=settings,
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
    if not web.is_htmx(request):
        return _done(request, db, user, case, "case.note_added")
    # A note changes only the notes and the timeline: htmx swaps just that block.
    case = find_case(db=db, user=user, case_id=case.id, action="case.note_added", refresh=True)
    record = record_section(db=db, settings=settings, case=case, user=user)
    context = {"case": case, **{f.name: getattr(record, f.name) for f in fields(record)}}
    return web.render(request, "cases/case.html", context, block="record")
