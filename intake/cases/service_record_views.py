"""Recording services delivered from the case page, and what the case page and the
dashboard show of them (cases/_services.html, cases/_services_dashboard.html).

The route parses the post and calls one service function; a refusal is a CaseError,
which the one handler in intake.app turns into the case page with the reasons.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from jinja2 import pass_context
from sqlalchemy.orm import Session, object_session

from intake import web
from intake.accounts.models import User
from intake.cases import service_lists, service_records, service_stats
from intake.cases.models import Case
from intake.db import read_transaction, utcnow
from intake.deps import CaseViewer, DbSession, SettingsDep, find_case, get_settings, visible_case
from intake.referrals import service_providers

router = APIRouter()


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip()) if len(text) <= 10 else None
    except ValueError:
        return None


@router.post("/cases/{case_id}/services")
def record_services(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    user: CaseViewer,
    case: Annotated[Case, Depends(visible_case(service_records.ACTION))],
    client_id: Annotated[str, Form(max_length=64)] = "",
    service: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    quantity: Annotated[list[str], Form()] = [],  # noqa: B006
    delivered_on: Annotated[str, Form(max_length=40)] = "",
    provided_by: Annotated[str, Form(max_length=80)] = "",
    note: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    # Who may record (the team and the supervisors) is the service's to decide.
    items, problems = service_records.parse_items(
        [s[:64] for s in service[:100]], [q[:20] for q in quantity[:100]]
    )
    recording = service_records.Recording(
        items=items,
        delivered_on=_parse_date(delivered_on),
        provider=service_records.parse_provider(provided_by),
        note=note,
        client_id=client_id,
    )
    service_records.record_services(
        db=db,
        settings=settings,
        actor=user,
        case=case,
        recording=recording,
        problems=problems,
        today=utcnow().date(),
    )
    if not web.is_htmx(request):
        return RedirectResponse(f"/cases/{case.id}#services", status_code=303)
    case = find_case(db=db, user=user, case_id=case.id, action=service_records.ACTION)
    return web.render(request, "cases/_services.html", {"case": case})


# --- what the case page and the dashboard show (template globals) ---------------------------


def _reading(db: Session, work: Any) -> Any:
    # The page's own transaction is used as it is; otherwise a read transaction of its own.
    if db.in_transaction():
        return work()
    with read_transaction(db):
        return work()


@pass_context
def case_services(context: Any, case: Case, user: User | None) -> Any:
    """The case page's services section (None when nothing may be shown)."""
    db = object_session(case)
    request = context.get("request")
    if db is None or user is None or request is None:
        return None
    settings = get_settings(request)
    return _reading(
        db,
        lambda: service_lists.services_section(
            db=db, settings=settings, case=case, user=user, today=utcnow().date()
        ),
    )


@pass_context
def services_dashboard(context: Any, user: User | None) -> Any:
    """The dashboard's services figures for the reader's organisation."""
    db = object_session(user) if user is not None else None
    request = context.get("request")
    if db is None or user is None or request is None:
        return None
    timezone = get_settings(request).timezone
    return _reading(
        db,
        lambda: service_stats.services_figures(db=db, user=user, now=utcnow(), timezone=timezone),
    )


service_records.install_partner_source(service_providers.referred_organisations)
web.ENVIRONMENT.globals["case_services"] = case_services
web.ENVIRONMENT.globals["services_dashboard"] = services_dashboard
