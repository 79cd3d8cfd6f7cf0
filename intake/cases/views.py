"""The case page and the actions on it: fire a transition, change the team, change track.

Routes only parse, call a service and render. Every case is found through
intake.cases.access, so a case the user may not see is a 404 like a made-up id.
A refused action shows the case again with the reason, status 409 or 422; for
htmx the same block is swapped in with status 200, because htmx does not swap
an error response and the person must see why nothing happened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import web
from intake.accounts.models import User
from intake.cases import service
from intake.cases.access import CaseNotFound, get_visible_case
from intake.cases.models import Case, CaseHistory
from intake.db import DbSession, utcnow
from intake.definitions import service as definitions
from intake.i18n import get_locale
from intake.i18n import gettext as _
from intake.security.permissions import Permission, has_permission, require
from intake.workflow import service as workflow_service
from intake.workflow.compiled import Workflow
from intake.workflow.schema import TEAM_FUNCTIONS

router = APIRouter()

CaseViewer = Annotated[User, Depends(require(Permission.CASES_VIEW))]
TeamAssigner = Annotated[User, Depends(require(Permission.TEAM_ASSIGN))]
CaseAdvancer = Annotated[User, Depends(require(Permission.CASES_ADVANCE))]


def function_label(function: str) -> str:
    """A team function's name in the reader's language."""
    labels = {
        "social_worker": _("Social worker"),
        "psychologist": _("Psychologist"),
        "health_specialist": _("Health specialist"),
        "pedagogue": _("Pedagogue"),
        "law_enforcement_liaison": _("Law-enforcement liaison"),
    }
    return labels.get(function, function)


def label_in(labels: Mapping[str, str] | None, languages: Sequence[str]) -> str:
    """A definition's per-language text for the reader, else in its first language."""
    if not labels:
        return ""
    return labels.get(get_locale()) or labels.get(languages[0], "") or next(iter(labels.values()))


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    at: dt.datetime
    who: str
    role: str
    text: str
    reason: str


def _case(db: Session, user: User, case_id: str, *, refresh: bool = False) -> Case:
    try:
        return get_visible_case(db=db, user=user, case_id=case_id, refresh=refresh)
    except CaseNotFound:
        raise HTTPException(status_code=404) from None


def _workflow(db: Session, version_id: str | None) -> Workflow | None:
    version = definitions.get_version(db=db, version_id=version_id) if version_id else None
    return definitions.compiled_workflow(db=db, version=version) if version else None


def _state_label(workflow: Workflow | None, state: str) -> str:
    if workflow is None or state not in workflow.states:
        return state
    return label_in(workflow.states[state].label, workflow.languages)


def _timeline(db: Session, rows: list[CaseHistory]) -> list[Entry]:
    ids = {r.actor_id for r in rows} | {r.subject_user_id for r in rows}
    names = dict(
        db.execute(select(User.id, User.display_name).where(User.id.in_(ids - {None}))).all()
    )
    entries, previous = [], None
    for row in rows:
        wf = _workflow(db, row.workflow_version_id)
        to = _state_label(wf, row.to_state)
        track = label_in(wf.title, wf.languages) if wf else ""
        person = names.get(row.subject_user_id or "", "")
        function = function_label(row.team_function)
        if row.kind == "created":
            text = _("Case opened: %(track)s, %(stage)s", track=track, stage=to)
        elif row.kind == "transition":
            t = wf.route(state=row.from_state, trigger=row.trigger) if wf else None
            action = label_in(t.label, wf.languages) if t and wf else row.trigger
            before = _state_label(wf, row.from_state)
            text = _("%(action)s: %(before)s → %(after)s", action=action, before=before, after=to)
        elif row.kind == "track_changed":
            left = label_in(previous.title, previous.languages) if previous else ""
            text = _(
                "Track changed from %(old)s to %(track)s, %(stage)s",
                old=left,
                track=track,
                stage=to,
            )
        elif row.kind == "team_assigned":
            text = _("%(person)s joined the team as %(function)s", person=person, function=function)
        elif row.kind == "team_removed":
            text = _("%(person)s left the team (%(function)s)", person=person, function=function)
        else:
            text = _("Moved to a new version of the track: %(stage)s", stage=to)
        previous = wf or previous
        who = names.get(row.actor_id or "", "")
        entries.append(Entry(row.at, who, web.role_label(row.actor_role), text, row.reason))
    return entries


def _context(db: Session, user: User, case: Case) -> dict[str, Any]:
    now = utcnow()
    workflow = service.workflow_of(db=db, case=case)
    state = workflow.states[case.state]
    days = service.days_in_stage(case=case, now=now)
    submitted = service.latest_submissions(db=db, case=case)
    forms = []
    for key in state.forms:
        version = definitions.latest(db=db, kind="form", key=key)
        form = definitions.compiled_form(version) if version else None
        title = label_in(form.title, form.languages) if form else key
        forms.append({"title": title, "submitted": submitted.get(key)})
    actions = workflow_service.actions_for(db=db, case=case, user=user, today=now.date())
    tracks = []
    if has_permission(user, Permission.CASES_ADVANCE) and case.closed_at is None:
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
    return {
        "case": case,
        "track_title": label_in(workflow.title, workflow.languages),
        "stage_label": label_in(state.label, workflow.languages),
        "days_in_stage": days,
        "sla_days": state.sla_days,
        "overdue": state.sla_days is not None and case.closed_at is None and days > state.sla_days,
        "stage_forms": forms,
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
        "team": service.active_team(db=db, case=case),
        "can_assign": has_permission(user, Permission.TEAM_ASSIGN) and case.closed_at is None,
        "candidates": service.team_candidates(db=db, case=case),
        "functions": sorted(TEAM_FUNCTIONS),
        "function_label": function_label,
        "tracks": tracks,
        "timeline": _timeline(db, service.history(db=db, case=case)),
    }


def _page(
    request: Request,
    db: Session,
    user: User,
    case: Case,
    *,
    errors: Sequence[str] = (),
    status_code: int = 200,
) -> Response:
    context = {**_context(db, user, case), "errors": list(errors)}
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
    case = _case(db, user, case_id)
    try:
        workflow_service.fire_transition(
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
    case = _case(db, user, case_id)
    try:
        service.assign_team_member(db=db, actor=user, case=case, user_id=user_id, function=function)
    except service.CaseError as error:
        return _refused(request, db, user, case_id, error)
    return _done(request, db, user, case_id)


@router.post("/cases/{case_id}/team/{member_id}/remove")
def remove_team_member(
    request: Request, db: DbSession, user: TeamAssigner, case_id: str, member_id: str
) -> Response:
    case = _case(db, user, case_id)
    try:
        service.remove_team_member(db=db, actor=user, case=case, member_id=member_id)
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
    case = _case(db, user, case_id)
    try:
        workflow_service.change_track(
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
