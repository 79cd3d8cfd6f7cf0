"""The audit trail page and its CSV export (parse, one service call, render)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from intake import web
from intake.accounts.models import User
from intake.accounts.reauth import require_recent
from intake.audit_trail import service
from intake.db import DbSession
from intake.i18n import gettext as _
from intake.security.permissions import Permission, require

router = APIRouter()

Reader = Annotated[User, Depends(require(Permission.AUDIT_READ))]
# An export leaves the system: the reader proves again who they are.
FreshReader = Annotated[User, Depends(require_recent(Permission.AUDIT_READ))]


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _text(value: str, limit: int) -> str:
    # No name or reference holds a control character, and PostgreSQL text cannot hold NUL.
    return "".join(c for c in value[:limit] if c.isprintable())


def _filters(
    who: str = "",
    kind: str = "",
    since: str = "",
    until: str = "",
    case: str = "",
    before: str = "",
) -> service.Filters:
    return service.Filters(
        who=_text(who, 64),
        kind=kind if kind in service.KINDS else "",
        since=_date(since),
        until=_date(until),
        case_reference=_text(case, 16),
        before=int(before) if before.isdigit() and len(before) < 18 else None,
    )


FiltersDep = Annotated[service.Filters, Depends(_filters)]


def action_label(action: str) -> str:
    """An audited action in the reader's language (its code when it has no label yet)."""
    labels = {
        "auth.sign_in": _("Signed in"),
        "auth.sign_out": _("Signed out"),
        "auth.second_factor": _("Second factor"),
        "auth.reauthenticate": _("Confirmed identity"),
        "user.created": _("Account created"),
        "user.password_reset": _("Password reset"),
        "user.password_changed": _("Password changed"),
        "user.disabled": _("Account disabled"),
        "user.enabled": _("Account enabled"),
        "user.sessions_revoked": _("Signed out everywhere"),
        "user.mfa_enrolled": _("Second factor set up"),
        "user.mfa_reset": _("Second factor reset"),
        "user.mfa_removed": _("Second factor removed"),
        "case.viewed": _("Case opened"),
        "case.created": _("Case created"),
        "case.transition": _("Case moved on"),
        "case.note_added": _("Note added"),
        "case.overlap_found": _("Overlap lookup"),
        "form.submitted": _("Form submitted"),
        "audit.read": _("Audit trail read"),
        "audit.exported": _("Audit trail exported"),
    }
    return labels.get(action, action)


def outcome_label(outcome: str) -> str:
    """An outcome in the reader's language."""
    return {"ok": _("Done"), "refused": _("Refused")}.get(outcome, outcome)


@router.get("/audit")
def audit_page(request: Request, db: DbSession, reader: Reader, filters: FiltersDep) -> Response:
    page = service.read_page(db=db, reader=reader, filters=filters)
    query = {k: v for k, v in request.query_params.items() if k != "before"}
    return web.render(
        request,
        "audit_trail/audit.html",
        {
            "page": page,
            "filters": filters,
            "kinds": service.KINDS,
            "broken_at": service.chain_status(db=db),
            "query": query,
            "action_label": action_label,
            "outcome_label": outcome_label,
        },
        block="results",
    )


@router.get("/audit/export.csv")
def audit_export(
    request: Request, db: DbSession, reader: FreshReader, filters: FiltersDep
) -> Response:
    body = service.export_csv(db=db, reader=reader, filters=filters)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-trail.csv"'},
    )
