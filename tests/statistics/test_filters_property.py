"""Hypothesis over the data and over every filter the page offers: no count from 1 to k-1
is ever shown, and no hidden count can be worked out from everything the page shows
under all its filters together (differencing a year from all years, a total from its
parts): each breakdown's views are put back together into the table they come from and
checked with exact linear algebra (tests/statistics/test_suppression.py)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from intake.accounts import service as accounts
from intake.config import Settings
from intake.statistics.figures import Filters, coordinator_figures, parse_filters
from intake.statistics.suppression import ALL, Protected
from tests.conftest import make_user

from .helpers import agree, bulk_cases, coordination_body, person
from .test_suppression import recoverable

K = 11
YEARS = (2024, 2025)
GROUPS = [
    ("female", 30, "ukraine", ("labour",)),
    ("male", 30, "ukraine", ("labour", "sexual")),
    ("female", 16, "moldova", ("sexual",)),
    ("male", 45, "moldova", ()),
]
_runs = itertools.count()


def _world(db: Session, counts: list[int]) -> Any:
    run = next(_runs)
    body = coordination_body(db, f"Body {run}")
    member = accounts.get_or_create_organisation(db=db, name=f"Reporting {run}")
    agree(db, body, member)
    rows = []
    for (year, group), n in zip(itertools.product(YEARS, GROUPS), counts, strict=True):
        gender, age, nationality, exploitation = group
        answers = person(gender, age, nationality, exploitation)
        rows += [(dt.datetime(year, 6, 1, tzinfo=dt.UTC), answers)] * n
    bulk_cases(db, make_user(db, member, "outreach_worker", f"w-{run}"), rows)
    return make_user(db, body, "coordinator", f"c-{run}")


def _rebuild(views: dict[str, dict[str, int | None]]) -> Protected:
    """The table the views are rows of: rows = years and ALL, columns = codes and ALL."""
    columns = sorted({code for view in views.values() for code in view} - {ALL})
    rows = tuple(r for r in views if r != ALL)
    values: dict[tuple[str, str], int] = {}
    hidden = set()
    for row, view in views.items():
        for column in (*columns, ALL):
            shown = view.get(column, 0)
            values[(row, column)] = shown or 0
            if shown is None:
                hidden.add((row, column))
    return Protected(rows, tuple(columns), values, frozenset(), frozenset(hidden))


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(counts=st.lists(st.sampled_from([0, 1, 3, 9, 11, 14]), min_size=8, max_size=8))
def test_no_small_count_is_shown_or_recoverable_under_any_filter(
    db: Session, settings: Settings, counts: list[int]
) -> None:
    coordinator = _world(db, counts)
    offered = [parse_filters(year="")] + [parse_filters(year=str(y)) for y in YEARS]
    views: dict[str, dict[str, dict[str, int | None]]] = {}
    for filters in offered:
        shown = coordinator_figures(db=db, user=coordinator, filters=filters, settings=settings)
        row = ALL if filters.year is None else str(filters.year)
        assert shown.cases.value is None or not 0 < shown.cases.value < K
        for breakdown in shown.breakdowns:
            view = {line.code: line.count.value for line in breakdown.lines}
            for code, value in view.items():
                assert value is None or not 0 < value < K, (breakdown.key, row, code, value)
            if not breakdown.multiple:
                view[ALL] = breakdown.total.value
                views.setdefault(breakdown.key, {})[row] = view
    for key, table in views.items():
        if len(table) == 1 + len(YEARS):
            assert recoverable(_rebuild(table)) == set(), key
    _check_multiple_choice(db, coordinator, settings, counts)


def _true_no(counts: list[int], option: str, row: str) -> int:
    """People without `option` among their types of exploitation, in a year (or all)."""
    found = 0
    for (year, group), n in zip(itertools.product(YEARS, GROUPS), counts, strict=True):
        if row in (ALL, str(year)) and option not in group[3]:
            found += n
    return found


def _check_multiple_choice(
    db: Session, coordinator: Any, settings: Settings, counts: list[int]
) -> None:
    """A multiple choice shows "yes" per option; "no" is the total less "yes", so a reader
    can work it out where both are shown: it must then not be a small count."""
    views: dict[str, dict[str, dict[str, int | None]]] = {}
    for year in (None, *YEARS):
        filters = Filters(year=year)
        row = ALL if year is None else str(year)
        shown = coordinator_figures(db=db, user=coordinator, filters=filters, settings=settings)
        exploitation = [b for b in shown.breakdowns if b.key == "exploitation"]
        for breakdown in exploitation:
            for line in breakdown.lines:
                views.setdefault(line.code, {})[row] = {
                    "yes": line.count.value,
                    "no": None,
                    ALL: breakdown.total.value,
                }
    for option, table in views.items():
        for row, column in recoverable(_rebuild(table)):
            assert column == "no", (option, row, column)
            assert not 0 < _true_no(counts, option, row) < K, (option, row)


def test_a_year_outside_the_range_is_refused_with_a_message() -> None:
    for bad in ("1999", "2101", "２０２５", "25x", "-1", "2025\x00", "9" * 40):
        try:
            parse_filters(year=bad)
        except ValueError as exc:
            assert "year" in str(exc)
        else:
            raise AssertionError(bad)
    assert parse_filters(year=" 2025 ") == Filters(year=2025)
