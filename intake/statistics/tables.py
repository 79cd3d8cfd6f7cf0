"""Counting profiles into protected tables: one table per breakdown, a row per year.

Every table of cases shares its row totals (the cases opened in each year, and in all
years): when one table must hide a year's total, every table hides it, so no table gives
away what another hid (`protect_all` repeats until they agree).
A multiple choice (types of exploitation, needs) is one table per option, with columns
"yes" and "no": a person counts once per table, and "no" (never shown) is protected like
any cell, since a reader could take it as the total less "yes".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from intake.statistics.profiles import Profile
from intake.statistics.suppression import ALL, Cell, Protected, protect

YES, NO = "yes", "no"
CASES = "cases"
# Single-choice breakdowns of cases: the key, and how a profile gives its value.
SINGLE: tuple[str, ...] = (
    "opened",
    "closed",
    "track",
    "stage",
    "gender",
    "age_band",
    "nationality",
    "exploitation_country",
)
MULTIPLE: tuple[str, ...] = ("exploitation", "control", "recruitment", "needs")
CLOSED_STAGE = "closed"
STILL_OPEN = "open"


def single_value(profile: Profile, key: str) -> str:
    """The value a profile has in a single-choice breakdown."""
    if key == "opened":
        return profile.opened_month
    if key == "closed":
        return profile.closed_month or STILL_OPEN
    if key == "stage":
        return CLOSED_STAGE if profile.closed_month else f"{profile.track}/{profile.state}"
    value: str = getattr(profile, key)
    return value


@dataclass
class Tally:
    """Counts of cases per (table, year, value), gathered in one pass over the profiles."""

    years: set[int] = field(default_factory=set)
    tables: dict[str, Counter[Cell]] = field(default_factory=dict)
    columns: dict[str, set[str]] = field(default_factory=dict)

    def add(self, table: str, year: int, value: str) -> None:
        """Count one case (or referral, or overlap) into a table."""
        self.years.add(year)
        self.tables.setdefault(table, Counter())[(str(year), value)] += 1
        self.columns.setdefault(table, set()).add(value)


def tally_cases(profiles: Iterable[Profile], tally: Tally | None = None) -> Tally:
    """Every case table of these profiles, in one pass that keeps no profile: a multiple
    choice's "no" is the year's cases less its "yes", filled in at the end."""
    tally = tally or Tally()
    for profile in profiles:
        tally.add(CASES, profile.year, CASES)
        for key in SINGLE:
            tally.add(key, profile.year, single_value(profile, key))
        for key in MULTIPLE:
            for option in getattr(profile, key):
                tally.add(f"{key}:{option}", profile.year, YES)
    cases = tally.tables.get(CASES, Counter())
    for name in [n for n in tally.tables if n.split(":", 1)[0] in MULTIPLE]:
        table = tally.tables[name]
        for year in tally.years:
            table[(str(year), NO)] = cases[(str(year), CASES)] - table[(str(year), YES)]
        tally.columns[name] = {YES, NO}
    return tally


def multiple_options(tally: Tally, key: str) -> list[str]:
    """The options seen of a multiple-choice breakdown."""
    prefix = f"{key}:"
    return sorted(name[len(prefix) :] for name in tally.tables if name.startswith(prefix))


def case_tables(tally: Tally) -> Iterator[str]:
    """The tables whose rows are the cases of each year (they share their row totals)."""
    for name in tally.tables:
        if name in (CASES, *SINGLE) or name.split(":", 1)[0] in MULTIPLE:
            yield name


def protect_all(
    tally: Tally, *, threshold: int, other: Mapping[str, Counter[Cell]] | None = None
) -> dict[str, Protected]:
    """Every table protected, the year totals shared by all case tables hidden alike;
    `other` tables (referrals, overlaps) are protected on their own."""
    rows = [str(year) for year in sorted(tally.years)]
    shared: set[Cell] = set()
    names = list(case_tables(tally))
    while True:
        result = {
            name: protect(
                tally.tables[name],
                rows,
                sorted(tally.columns[name]),
                threshold=threshold,
                hide=shared,
            )
            for name in names
        }
        hidden_totals = {
            cell for table in result.values() for cell in table.hidden if cell[1] == ALL
        }
        if hidden_totals <= shared:
            break
        shared |= hidden_totals
    for name, counts in (other or {}).items():
        other_rows = sorted({row for row, _value in counts})
        columns = sorted({value for _row, value in counts})
        result[name] = protect(counts, other_rows, columns, threshold=threshold)
    return result
