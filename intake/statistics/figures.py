"""The anonymised figures a coordinator (or a supervisor, for their organisation) sees.

`coordinator_figures` is the one entry point, for the page, the exports and the JSON API:
it counts the cases of the organisations the reader's figures cover (a coordinator's
reporting organisations, a supervisor's own), protects every table (intake.statistics.
suppression), records the reading in the audit trail and returns figures in which every
hidden count is already None. Nothing it returns names a case, a person or an answer
that is not a choice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.audit import service as audit
from intake.cases.models import Case
from intake.cases.service_records import ServiceRecord
from intake.config import Settings, get_settings
from intake.db import read_transaction, utcnow, write_transaction
from intake.i18n import gettext as _
from intake.overlap.models import OverlapMatch
from intake.referrals.models import Referral
from intake.statistics import tables
from intake.statistics.agreements import reporting_organisation_ids
from intake.statistics.labels import Labels, breakdown_title
from intake.statistics.profiles import profiles
from intake.statistics.stays import StageStay, stage_stays
from intake.statistics.suppression import ALL, Cell, Protected

FIRST_YEAR, LAST_YEAR = 2000, 2100
# The breakdowns in the order the page shows them.
ORDER = (
    "opened",
    "closed",
    "track",
    "stage",
    "gender",
    "age_band",
    "nationality",
    "exploitation",
    "control",
    "recruitment",
    "exploitation_country",
    "needs",
    "services",
    "referrals",
    "overlaps",
)


class FilterError(ValueError):
    """A filter that is not one the page offers; the message says so."""


@dataclass(frozen=True)
class Filters:
    """What the reader narrowed the figures to (None: every year)."""

    year: int | None = None


def parse_filters(*, year: str = "") -> Filters:
    """Filters from the page's query; anything but a plain year in range is refused."""
    year = year.strip()
    if not year:
        return Filters()
    if not (year.isascii() and year.isdigit() and FIRST_YEAR <= int(year) <= LAST_YEAR):
        raise FilterError(_("Choose a year from the list."))
    return Filters(year=int(year))


@dataclass(frozen=True)
class Count:
    """A count as shown: None when hidden; `small` when hidden for being under the threshold
    (shown as "< k"), otherwise hidden so that a small count cannot be worked out."""

    value: int | None
    small: bool


@dataclass(frozen=True)
class Line:
    code: str
    label: str
    count: Count


@dataclass(frozen=True)
class Breakdown:
    """One breakdown for the chosen year; `multiple`: a person may be in several lines."""

    key: str
    title: str
    lines: tuple[Line, ...]
    total: Count
    multiple: bool


@dataclass(frozen=True)
class Figures:
    filters: Filters
    years: tuple[int, ...]
    threshold: int
    organisations: int
    cases: Count
    breakdowns: tuple[Breakdown, ...]
    stays: tuple[StageStay, ...]


def _count(table: Protected, cell: Cell) -> Count:
    return Count(table.shown(cell), cell in table.primary)


def _referrals(db: Session, organisation_ids: Sequence[str]) -> Counter[Cell]:
    rows = db.execute(
        select(Referral.created_at, Referral.status, Referral.outcome).where(
            Referral.from_organisation_id.in_(list(organisation_ids))
        )
    ).all()
    return Counter((str(at.year), outcome or status) for at, status, outcome in rows)


def _services(db: Session, organisation_ids: Sequence[str]) -> Counter[Cell]:
    # People (cases) who received each type of service, by year of delivery.
    rows = db.execute(
        select(ServiceRecord.delivered_on, ServiceRecord.service_type, ServiceRecord.case_id)
        .where(ServiceRecord.organisation_id.in_(list(organisation_ids)))
        .distinct()
    ).all()
    people = {(str(day.year), kind, case_id) for day, kind, case_id in rows}
    return Counter((year, kind) for year, kind, _case in people)


def _overlaps(db: Session, organisation_ids: Sequence[str]) -> Counter[Cell]:
    rows = db.execute(
        select(OverlapMatch.found_at)
        .join(Case, Case.id == OverlapMatch.case_id)
        .where(Case.organisation_id.in_(list(organisation_ids)))
    ).scalars()
    return Counter((str(at.year), "found") for at in rows)


def _single(key: str, table: Protected, row: str, labels: Labels) -> Breakdown:
    lines = []
    for column in table.columns:
        count = _count(table, (row, column))
        if key in ("opened", "closed") and count.value == 0:
            continue  # a month of another year, or one with nothing in it
        lines.append(Line(column, labels.value(key, column), count))
    return Breakdown(
        key, breakdown_title(key), tuple(lines), _count(table, (row, ALL)), multiple=False
    )


def _multiple(
    key: str, protected: dict[str, Protected], tally: tables.Tally, row: str, labels: Labels
) -> Breakdown:
    lines = tuple(
        Line(
            option,
            labels.value(key, option),
            _count(protected[f"{key}:{option}"], (row, tables.YES)),
        )
        for option in tables.multiple_options(tally, key)
    )
    total = _count(protected[tables.CASES], (row, ALL))
    return Breakdown(key, breakdown_title(key), lines, total, multiple=True)


def _breakdowns(
    protected: dict[str, Protected], tally: tables.Tally, row: str, labels: Labels
) -> list[Breakdown]:
    found = []
    for key in ORDER:
        if key in tables.MULTIPLE:
            found.append(_multiple(key, protected, tally, row, labels))
        elif key == "services" and key in protected:
            single = _single(key, protected[key], row, labels)
            # A person may have had several types: the lines' sum is no count of people.
            found.append(Breakdown(key, single.title, single.lines, single.total, multiple=True))
        elif key in protected:
            found.append(_single(key, protected[key], row, labels))
    return found


def coordinator_figures(
    *, db: Session, user: User, filters: Filters, settings: Settings | None = None
) -> Figures:
    """The figures `user` may see for `filters`, every small count already hidden; the
    reading is recorded in the audit trail."""
    threshold = (settings or get_settings()).statistics_threshold
    with read_transaction(db):
        organisation_ids = reporting_organisation_ids(db=db, user=user)
        tally = tables.tally_cases(profiles(db=db, organisation_ids=organisation_ids))
        other = {
            "services": _services(db, organisation_ids),
            "referrals": _referrals(db, organisation_ids),
            "overlaps": _overlaps(db, organisation_ids),
        }
        protected = tables.protect_all(
            tally, threshold=threshold, other={k: v for k, v in other.items() if v}
        )
        labels = Labels(db=db)
        row = str(filters.year) if filters.year is not None else ALL
        breakdowns = _breakdowns(protected, tally, row, labels) if tally.years else []
        stays = stage_stays(
            db=db,
            organisation_ids=organisation_ids,
            tracks=labels.tracks,
            year=filters.year,
            threshold=threshold,
            now=utcnow(),
        )
    cases = _count(protected[tables.CASES], (row, ALL)) if tally.years else Count(0, False)
    with write_transaction(db):
        audit.record(
            db=db,
            action="statistics.viewed",
            actor_id=user.id,
            object_type="organisation",
            object_id=user.organisation_id,
            detail=f"year={filters.year or 'all'};organisations={len(organisation_ids)}",
        )
    return Figures(
        filters=filters,
        years=tuple(sorted(tally.years)),
        threshold=threshold,
        organisations=len(organisation_ids),
        cases=cases,
        breakdowns=tuple(breakdowns),
        stays=tuple(stays),
    )
