"""The dashboard's figures about services delivered: per type, per month and per track.

Counted over the organisation's records of the last MONTHS months (by the day the
service was given). Quantities are only added up within one type (meals are not
added to euros); the bars compare how many times each was given and to how many
people, which mean the same for every type.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases.labels import track_title
from intake.cases.service_records import ServiceRecord
from intake.cases.service_words import quantity_text, service_label
from intake.definitions import service as definitions
from intake.i18n import format_date
from intake.security.permissions import Permission, has_permission
from intake.workflow.services import shipped_catalogue

MONTHS = 12


@dataclass(frozen=True)
class ServiceRow:
    """One line of a table: what it counts, times given, people, and (per type) the quantity."""

    key: str
    label: str
    times: int
    people: int
    quantity: str = ""


@dataclass(frozen=True)
class ServiceFigures:
    """Everything cases/_services_dashboard.html shows."""

    since: dt.date
    by_type: list[ServiceRow]
    by_month: list[ServiceRow]
    by_track: list[ServiceRow]


def first_month(today: dt.date, months: int = MONTHS) -> dt.date:
    """The first day of the month `months - 1` months before today's."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_starts(since: dt.date, today: dt.date) -> list[dt.date]:
    starts, current = [], since
    while current <= today:
        starts.append(current)
        current = first_month(current, 0)  # the first day of the next month
    return starts


def services_figures(
    *, db: Session, user: User, now: dt.datetime, timezone: str
) -> ServiceFigures | None:
    """Services of the user's organisation in the last MONTHS months (None without the right)."""
    if not has_permission(user, Permission.DASHBOARD_VIEW):
        return None
    today = now.astimezone(ZoneInfo(timezone)).date()
    since = first_month(today)
    scope = (
        ServiceRecord.organisation_id == user.organisation_id,
        ServiceRecord.delivered_on >= since,
        ServiceRecord.delivered_on <= today,
    )
    times, people = func.count(ServiceRecord.id), func.count(distinct(ServiceRecord.case_id))
    by_type = db.execute(
        select(
            ServiceRecord.service_type,
            ServiceRecord.unit,
            times,
            people,
            func.sum(ServiceRecord.quantity),
        )
        .where(*scope)
        .group_by(ServiceRecord.service_type, ServiceRecord.unit)
    ).all()
    order = {code: index for index, code in enumerate(shipped_catalogue().types)}
    type_rows = [
        ServiceRow(code, service_label(code), n, p, quantity_text(unit, int(total or 0)))
        for code, unit, n, p, total in sorted(by_type, key=lambda r: (order.get(r[0], 99), r[0]))
    ]
    dates = db.execute(
        select(ServiceRecord.delivered_on, ServiceRecord.case_id).where(*scope)
    ).all()
    month_rows = []
    for start in _month_starts(since, today):
        inside = [
            case_id for day, case_id in dates if (day.year, day.month) == (start.year, start.month)
        ]
        month_rows.append(
            ServiceRow(
                start.isoformat()[:7], format_date(start, "MMMM y"), len(inside), len(set(inside))
            )
        )
    by_track = db.execute(
        select(ServiceRecord.track, times, people).where(*scope).group_by(ServiceRecord.track)
    ).all()
    titles = {wf.id: track_title(wf) for _v, wf in definitions.current_workflows(db=db)}
    track_rows = [
        ServiceRow(track, titles.get(track, track), n, p) for track, n, p in sorted(by_track)
    ]
    return ServiceFigures(since=since, by_type=type_rows, by_month=month_rows, by_track=track_rows)
