"""One coarse profile per case, read from coded answers only, never decrypted.

A profile holds what the figures and the anonymised exports count: the year and month a
case was opened and closed, its track and stage, and the person's gender, CTDC age band,
nationality, types of exploitation, means of control, recruitment and immediate needs,
all as choice names. Names, birth dates, contacts and every free-text answer are sealed
(or free) text that this module never reads: it takes only the listed answers, only when
they are choice names or numbers. An anonymised case (intake.retention) has no answers
left; its kept coarse figures give gender and nationality.

Profiles stream (yield_per): an export of 100,000 cases holds one batch at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from intake.cases.models import Case
from intake.filling.models import Submission
from intake.retention.models import CaseStatistics
from intake.statistics import codes

INTAKE_FORM = "first_contact"
BATCH = 1000


@dataclass(frozen=True)
class Profile:
    """What may be counted about one case (choice names and coarse dates only)."""

    case_id: str
    organisation_id: str
    year: int
    opened_month: str  # YYYY-MM
    closed_month: str  # YYYY-MM, or "" while open
    track: str
    state: str
    gender: str
    age_band: str
    nationality: str
    exploitation: tuple[str, ...]
    control: tuple[str, ...]
    recruitment: tuple[str, ...]
    exploitation_country: str
    needs: tuple[str, ...]


def _age(answers: dict[str, Any]) -> Any:
    # age_years is calculated when the intake is submitted (from the birth date, or the
    # age given); the sealed birth date itself is never opened here.
    for name in ("age_years", "age"):
        value = answers.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
    return None


def profile_of(
    case: Any, answers: Any, kept_gender: str | None, kept_nationality: str | None
) -> Profile:
    """A case's profile from its intake's stored answers (or the figures kept for it)."""
    stored: dict[str, Any] = answers if isinstance(answers, dict) else {}
    created: dt.datetime = case.created_at
    closed: dt.datetime | None = case.closed_at
    gender = codes.choice(stored.get("gender")) if stored else codes.choice(kept_gender)
    nationality = (
        codes.choice(stored.get("nationality")) if stored else codes.choice(kept_nationality)
    )
    return Profile(
        case_id=case.id,
        organisation_id=case.organisation_id,
        year=created.year,
        opened_month=f"{created.year:04d}-{created.month:02d}",
        closed_month=f"{closed.year:04d}-{closed.month:02d}" if closed else "",
        track=case.track,
        state=case.state,
        gender=gender,
        age_band=codes.age_band(_age(stored)),
        nationality=nationality,
        exploitation=codes.choices(stored.get("exploitation_type")),
        control=codes.choices(stored.get("means_of_control")),
        recruitment=codes.choices(stored.get("recruitment")),
        exploitation_country=codes.choice(stored.get("exploitation_country")),
        needs=codes.choices(stored.get("immediate_needs")),
    )


def profiles(
    *, db: Session, organisation_ids: Sequence[str], year: int | None = None
) -> Iterator[Profile]:
    """The profiles of the cases of these organisations (of one year of opening, if given),
    in case id order, streamed in batches. The caller holds the read transaction."""
    if not organisation_ids:
        return
    query = (
        select(
            Case.id,
            Case.organisation_id,
            Case.created_at,
            Case.closed_at,
            Case.track,
            Case.state,
            Submission.answers,
            CaseStatistics.gender,
            CaseStatistics.nationality,
        )
        .outerjoin(
            Submission, and_(Submission.case_id == Case.id, Submission.form_key == INTAKE_FORM)
        )
        .outerjoin(CaseStatistics, CaseStatistics.case_id == Case.id)
        .where(Case.organisation_id.in_(list(organisation_ids)))
        .order_by(Case.id, Submission.submitted_at)
        .execution_options(yield_per=BATCH)
    )
    if year is not None:
        start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
        query = query.where(
            Case.created_at >= start, Case.created_at < start.replace(year=year + 1)
        )
    last = None
    for row in db.execute(query):
        if row.id == last:
            continue  # a later filling of the intake form: the first one describes the person
        last = row.id
        yield profile_of(row, row.answers, row.gender, row.nationality)
