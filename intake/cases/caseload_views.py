"""The caseload lists: my cases, my organisation's, overdue; filters, search, next page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from intake import web
from intake.cases import caseload
from intake.db import utcnow
from intake.deps import CaseViewer, DbSession, SettingsDep
from intake.i18n import format_number, ngettext
from intake.i18n import gettext as _

router = APIRouter()


def tab_label(tab: str) -> str:
    """A list's name in the reader's language."""
    labels = {
        "mine": _("My cases"),
        "organisation": _("My organisation"),
        "attention": _("Attention"),
        "overdue": _("Overdue"),
    }
    return labels.get(tab, tab)


def shown_count(count: int, capped: bool) -> str:
    """A count as a person reads it: '1,000+' past the cap."""
    return format_number(count) + ("+" if capped else "")


def count_text(count: int, capped: bool) -> str:
    """'12 cases', or '1,000+ cases' past the cap."""
    if capped:
        return _("%(count)s cases", count=shown_count(count, capped))
    return ngettext("%(num)s case", "%(num)s cases", count)


# PostgreSQL text cannot hold NUL, and no stage, track or reference has one.
NO_NUL = r"^[^\x00]*$"


@router.get("/cases")
def caseload_page(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    user: CaseViewer,
    tab: Annotated[str, Query(max_length=20)] = "",
    stage: Annotated[str, Query(max_length=64, pattern=NO_NUL)] = "",
    track: Annotated[str, Query(max_length=64, pattern=NO_NUL)] = "",
    q: Annotated[str, Query(max_length=40, pattern=NO_NUL)] = "",
    after: Annotated[str, Query(max_length=80)] = "",
) -> Response:
    now = utcnow()
    counts = caseload.tab_counts(db=db, user=user, now=now, settings=settings)
    # Without a tab asked for, the list opens where there is something to see.
    chosen = caseload.choose_tab(user=user, asked=tab, counts=counts)
    filters = caseload.Filters(tab=chosen, stage=stage, track=track, reference=q)
    found = caseload.page(
        db=db, user=user, filters=filters, after=after, now=now, settings=settings
    )
    tracks, stages = caseload.filter_choices(db=db)
    kept = {"tab": chosen, "stage": stage, "track": track, "q": q}
    next_url = None
    if found.next_cursor:
        shown = {k: v for k, v in kept.items() if v}
        next_url = "/cases?" + urlencode({**shown, "after": found.next_cursor})
    context = {
        "tabs": [(name, tab_label(name), shown_count(*number)) for name, number in counts.items()],
        "chosen": chosen,
        "filters": filters,
        "page": found,
        "count_text": count_text(found.count, found.capped),
        "tracks": tracks,
        "stages": stages,
        "next_url": next_url,
        "first_url": "/cases?" + urlencode({k: v for k, v in kept.items() if v}) if after else None,
    }
    return web.render(request, "cases/caseload.html", context, block="caseload")
