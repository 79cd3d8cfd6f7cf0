"""Coming of age on the case page: the countdown (cases/_coming_of_age.html) and the
supervisor's one action that moves her along her track's mapping."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from jinja2 import pass_context
from sqlalchemy.orm import object_session

from intake import web
from intake.accounts.models import User
from intake.cases import coming_of_age
from intake.cases.labels import state_label, track_title
from intake.cases.models import Case
from intake.db import read_transaction, utcnow
from intake.definitions import service as definitions
from intake.deps import CaseAdvancer, DbSession, SettingsDep, get_settings, visible_case
from intake.security.permissions import Permission, has_permission

router = APIRouter()


@router.post("/cases/{case_id}/coming-of-age")
def move_of_age(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    user: CaseAdvancer,
    case: Annotated[Case, Depends(visible_case(coming_of_age.ACTION, Permission.CASES_ADVANCE))],
    row_version: Annotated[int, Form()],
) -> Response:
    coming_of_age.move_of_age(
        db=db,
        settings=settings,
        user=user,
        case=case,
        expected_row_version=row_version,
        today=utcnow().date(),
    )
    return RedirectResponse(f"/cases/{case.id}", status_code=303)


@pass_context
def case_coming_of_age(context: Any, case: Case, user: User | None) -> dict[str, Any] | None:
    """The countdown for the case page, and where the move would take her (None if nothing)."""
    db = object_session(case)
    request = context.get("request")
    if db is None or user is None or request is None:
        return None
    settings = get_settings(request)

    def work() -> dict[str, Any] | None:
        found = coming_of_age.notice(db=db, settings=settings, case=case, today=utcnow().date())
        if found is None:
            return None
        target = next(
            (wf for _v, wf in definitions.current_workflows(db=db) if wf.id == found.track), None
        )
        return {
            "notice": found,
            "track": track_title(target),
            "stage": state_label(target, found.state),
            "can_move": found.days_left <= 0 and has_permission(user, Permission.CASES_ADVANCE),
        }

    if db.in_transaction():
        return work()
    with read_transaction(db):
        return work()


web.ENVIRONMENT.globals["case_coming_of_age"] = case_coming_of_age
