"""Downloads of the figures and of the anonymised records, after a fresh sign-in proof."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from intake import web
from intake.accounts.models import User
from intake.accounts.reauth import require_recent
from intake.deps import DbSession, SettingsDep, StatisticsReader, find_case
from intake.security.permissions import Permission
from intake.statistics import exports, exports_htcds, figures

router = APIRouter()

FreshExporter = Annotated[User, Depends(require_recent(Permission.STATISTICS_EXPORT))]


def _send(export: exports.Export) -> Response:
    return StreamingResponse(
        export.body,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Cache-Control": "no-store",
        },
    )


def _refused(request: Request, message: str) -> Response:
    return web.render(
        request, "statistics/exports.html", {"errors": [message], "plan": None}, status_code=422
    )


@router.get("/statistics/exports")
def exports_page(
    request: Request, db: DbSession, settings: SettingsDep, reader: StatisticsReader
) -> Response:
    plan = exports.records_plan(db=db, user=reader, settings=settings)
    return web.render(request, "statistics/exports.html", {"errors": [], "plan": plan})


@router.get("/statistics/exports/figures")
def export_figures(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    exporter: FreshExporter,
    format: Annotated[str, Query(max_length=10)] = "csv",
    year: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    try:
        fmt = exports.parse_format(format)
        filters = figures.parse_filters(year=year)
    except ValueError as exc:
        return _refused(request, str(exc))
    return _send(
        exports.export_figures(db=db, user=exporter, filters=filters, fmt=fmt, settings=settings)
    )


@router.get("/statistics/exports/records")
def export_records(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    exporter: FreshExporter,
    format: Annotated[str, Query(max_length=10)] = "csv",
) -> Response:
    try:
        fmt = exports.parse_format(format)
    except ValueError as exc:
        return _refused(request, str(exc))
    export, _plan = exports.export_records(
        db=db,
        session_factory=request.app.state.session_factory,
        user=exporter,
        fmt=fmt,
        settings=settings,
    )
    return _send(export)


@router.get("/statistics/exports/dictionary")
def export_dictionary(
    exporter: FreshExporter, kind: Annotated[str, Query(max_length=10)] = "figures"
) -> Response:
    return _send(exports.dictionary_csv(kind="records" if kind == "records" else "figures"))


@router.get("/cases/{case_id}/htcds.csv")
def export_htcds(
    request: Request, db: DbSession, settings: SettingsDep, exporter: FreshExporter, case_id: str
) -> Response:
    case = find_case(db=db, user=exporter, case_id=case_id, action="case.htcds_exported")
    try:
        export = exports_htcds.exchange_file(db=db, settings=settings, user=exporter, case=case)
    except exports_htcds.HtcdsRefused as exc:
        return web.render(
            request,
            "statistics/exports.html",
            {"errors": [str(exc)], "plan": None},
            status_code=403,
        )
    return _send(export)
