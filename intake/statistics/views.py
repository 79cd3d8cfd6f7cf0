"""The statistics page: anonymised figures, small counts hidden, charts with their tables.
The reporting agreements page of the installation administrator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import Response

from intake import web
from intake.deps import DbSession, OrganisationAdmin, SettingsDep, StatisticsReader
from intake.i18n import gettext as _
from intake.statistics import agreements, figures
from intake.statistics.figures import Filters

router = APIRouter()


@router.get("/statistics")
def statistics_page(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    reader: StatisticsReader,
    year: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    errors: list[str] = []
    try:
        filters = figures.parse_filters(year=year)
    except figures.FilterError as exc:
        errors, filters = [str(exc)], Filters()
    shown = figures.coordinator_figures(db=db, user=reader, filters=filters, settings=settings)
    return web.render(
        request,
        "statistics/statistics.html",
        {"figures": shown, "errors": errors},
        status_code=422 if errors else 200,
    )


def _agreements_page(
    request: Request,
    db: DbSession,
    *,
    errors: list[str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    return web.render(
        request,
        "statistics/agreements.html",
        {
            "bodies": agreements.coordinating_bodies(db=db),
            "candidates": agreements.reporting_candidates(db=db),
            "agreements": agreements.list_agreements(db=db),
            "errors": errors or [],
            "notice": notice,
        },
        status_code=status_code,
        block="content",
    )


@router.get("/admin/reporting")
def agreements_page(request: Request, db: DbSession, admin: OrganisationAdmin) -> Response:
    return _agreements_page(request, db)


@router.post("/admin/reporting")
def add_agreement(
    request: Request,
    db: DbSession,
    admin: OrganisationAdmin,
    coordinator_id: Annotated[str, Form(max_length=64)] = "",
    reporting_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    try:
        agreements.add_agreement(
            db=db, actor=admin, coordinator_id=coordinator_id, reporting_id=reporting_id
        )
    except agreements.AgreementError as exc:
        return _agreements_page(request, db, errors=[str(exc)], status_code=422)
    return _agreements_page(request, db, notice=_("The agreement is recorded."))


@router.post("/admin/reporting/{agreement_id}/end")
def end_agreement(
    request: Request, db: DbSession, admin: OrganisationAdmin, agreement_id: str
) -> Response:
    try:
        agreements.end_agreement(db=db, actor=admin, agreement_id=agreement_id)
    except LookupError:
        raise HTTPException(status_code=404) from None
    except agreements.AgreementError as exc:
        return _agreements_page(request, db, errors=[str(exc)], status_code=422)
    return _agreements_page(request, db, notice=_("The agreement has ended."))
