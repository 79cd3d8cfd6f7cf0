"""The administrator's retention page, and a supervisor's erasure of a case on request."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from intake import web
from intake.accounts import reauth
from intake.accounts.models import User
from intake.cases import access
from intake.db import DbSession
from intake.retention import service
from intake.security.permissions import Permission, require

router = APIRouter()
_OPAQUE_ID = re.compile(r"[0-9a-f]{32}")

RetentionAdmin = Annotated[User, Depends(require(Permission.RETENTION_MANAGE))]
FreshRetentionAdmin = Annotated[User, Depends(reauth.require_recent(Permission.RETENTION_MANAGE))]
FreshSupervisor = Annotated[User, Depends(reauth.require_recent(Permission.CASES_ERASE))]


def _page(request: Request, admin: User, *, error: str = "", status_code: int = 200) -> Response:
    return web.render(
        request,
        "retention/retention.html",
        {
            "organisation": admin.organisation,
            "error": error,
            "max_years": service.MAX_YEARS,
        },
        status_code=status_code,
    )


@router.get("/admin/retention")
def retention_page(request: Request, admin: RetentionAdmin) -> Response:
    return _page(request, admin)


@router.post("/admin/retention")
def set_retention(
    request: Request,
    db: DbSession,
    admin: FreshRetentionAdmin,
    years: Annotated[int, Form(ge=1, le=service.MAX_YEARS)],
) -> Response:
    service.set_retention_years(db=db, actor=admin, years=years)
    return RedirectResponse("/admin/retention", status_code=303)


@router.post("/cases/{case_id}/erasure")
def erase_case(
    request: Request,
    db: DbSession,
    supervisor: FreshSupervisor,
    case_id: str,
    reason: Annotated[str, Form(max_length=40)] = "",
    confirm: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    try:
        service.erase_on_request(
            db=db,
            settings=request.app.state.settings,
            actor=supervisor,
            case_id=case_id,
            reason=reason,
            confirmed=confirm == "on",
        )
    except access.CaseNotFound:
        # Another organisation's case, or none: the same 404, and the probe is audited.
        shown = case_id if _OPAQUE_ID.fullmatch(case_id) else ""
        access.record_unseen(db=db, user=supervisor, case_id=shown, action="case.anonymised")
        raise HTTPException(status_code=404) from None
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


# The case page's erasure partial (cases/_erasure.html) names the reasons and their labels.
web.ENVIRONMENT.globals["erasure_reasons"] = service.ERASURE_REASONS
web.ENVIRONMENT.globals["erasure_reason_label"] = service.erasure_reason_label
