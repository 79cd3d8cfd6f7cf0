"""The supervisor dashboard: one page of figures about the organisation's cases."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from intake import web
from intake.cases import dashboard as figures
from intake.db import utcnow
from intake.deps import DashboardViewer, DbSession, SettingsDep
from intake.i18n import format_date
from intake.i18n import gettext as _

router = APIRouter()


def chart_rows(labels: Iterable[str], *series: Iterable[float]) -> dict[str, Any]:
    """Rows for the bars macro (each label with its value in every series) and the top value."""
    rows = [
        {"label": label, "numbers": list(numbers)}
        for label, *numbers in zip(labels, *series, strict=True)
    ]
    top = max((n for row in rows for n in row["numbers"]), default=0)
    return {"rows": rows, "top": top}


def with_figures(rows: Iterable[Any], *fields: str) -> list[Any]:
    """The rows with a figure other than zero in one of `fields`: a stage nobody is in
    says nothing and made the page thousands of pixels long."""
    return [row for row in rows if any(getattr(row, name) for name in fields)]


def every_row(rows: Iterable[Any], *_fields: str) -> list[Any]:
    """All the rows, zeros included."""
    return list(rows)


@router.get("/dashboard")
def dashboard_page(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    user: DashboardViewer,
    zeros: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    show_zeros = zeros == "1"
    board = figures.dashboard(db=db, user=user, now=utcnow(), timezone=settings.timezone)
    week_labels = [_("Week of %(date)s", date=format_date(week.start)) for week in board.weeks]
    return web.render(
        request,
        "cases/dashboard.html",
        {
            "board": board,
            "weeks": figures.WEEKS,
            "week_labels": week_labels,
            "chart_rows": chart_rows,
            # Rows of zeros are hidden unless asked for (a link on the page, no script).
            "show_zeros": show_zeros,
            "shown_rows": every_row if show_zeros else with_figures,
        },
    )
