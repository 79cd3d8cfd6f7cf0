"""The dashboard's weeks: cases opened and closed in each of the last twelve weeks."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from intake.accounts.models import User
from intake.cases.access import visible_cases
from intake.cases.models import Case

WEEKS = 12


@dataclass(frozen=True)
class Week:
    """Cases opened and closed in the week starting `start` (a Monday, local time)."""

    start: dt.date
    opened: int
    closed: int


def week_starts(*, now: dt.datetime, timezone: str, weeks: int = WEEKS) -> list[dt.datetime]:
    """Local midnight of the last `weeks` Mondays, oldest first, the current week last."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    monday = today - dt.timedelta(days=today.weekday())
    days = [monday - dt.timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
    return [dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC) for day in days]


def weekly(*, db: Session, user: User, now: dt.datetime, timezone: str) -> list[Week]:
    """Cases opened and cases closed in each of the last WEEKS weeks (one pass, in SQL)."""
    starts = week_starts(now=now, timezone=timezone)

    def bucket(column: InstrumentedAttribute[Any]) -> ColumnElement[Any]:
        newest_first = reversed(list(enumerate(starts)))
        return case(*[(column >= start, index) for index, start in newest_first], else_=None)

    # Grouping by columns of a subquery keeps PostgreSQL from seeing the CASE's
    # bound values as two different expressions in SELECT and GROUP BY.
    inner = (
        visible_cases(user=user)
        .where(or_(Case.created_at >= starts[0], Case.closed_at >= starts[0]))
        .with_only_columns(
            bucket(Case.created_at).label("opened"), bucket(Case.closed_at).label("closed")
        )
        .subquery()
    )
    rows = db.execute(
        select(inner.c.opened, inner.c.closed, func.count()).group_by(
            inner.c.opened, inner.c.closed
        )
    ).all()
    opened: dict[int, int] = defaultdict(int)
    closed: dict[int, int] = defaultdict(int)
    for opened_in, closed_in, n in rows:
        if opened_in is not None:
            opened[int(opened_in)] += n
        if closed_in is not None:
            closed[int(closed_in)] += n
    zone = ZoneInfo(timezone)
    return [
        Week(start.astimezone(zone).date(), opened[i], closed[i]) for i, start in enumerate(starts)
    ]
