"""Median days in each stage, across the organisations a reader's figures cover.

A stay is the time between a case entering a stage and leaving it (or now, if it is still
there), as the dashboard counts it. A median is shown only over at least `threshold`
stays: a median of a handful is one person's story.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from intake.cases.dashboard import ENTERING_KINDS, Tracks
from intake.cases.models import Case, CaseHistory
from intake.db import UtcDateTime


@dataclass(frozen=True)
class StageStay:
    """One stage's median stay, or None when too few stays to show one."""

    track: str
    state: str
    label: str
    median_days: float | None


def stage_stays(
    *,
    db: Session,
    organisation_ids: Sequence[str],
    tracks: Tracks,
    year: int | None,
    threshold: int,
    now: dt.datetime,
) -> list[StageStay]:
    """Median days per open stage of each track, over the cases of these organisations
    (opened in `year`, if given). The caller holds the read transaction."""
    if not organisation_ids:
        return []
    scoped = select(Case.id).where(Case.organisation_id.in_(list(organisation_ids)))
    if year is not None:
        start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
        scoped = scoped.where(
            Case.created_at >= start, Case.created_at < start.replace(year=year + 1)
        )
    cases = scoped.subquery()
    entering = and_(
        CaseHistory.kind.in_(ENTERING_KINDS),
        CaseHistory.to_state != "",
        or_(CaseHistory.kind != "migrated", CaseHistory.from_state != CaseHistory.to_state),
    )
    left = func.lead(CaseHistory.at, type_=UtcDateTime()).over(
        partition_by=CaseHistory.case_id, order_by=(CaseHistory.at, CaseHistory.id)
    )
    rows = db.execute(
        select(CaseHistory.workflow_version_id, CaseHistory.to_state, CaseHistory.at, left)
        .join(cases, cases.c.id == CaseHistory.case_id)
        .where(entering)
    ).all()
    tracks.load(db=db, version_ids={row[0] for row in rows})
    durations: dict[tuple[str, str], list[float]] = defaultdict(list)
    for version_id, state, entered, left_at in rows:
        workflow = tracks.by_version.get(version_id or "")
        if workflow is None or tracks.is_final(version_id, state):
            continue
        durations[(workflow.id, state)].append(((left_at or now) - entered).total_seconds() / 86400)
    result = []
    per_track: dict[str, list[str]] = defaultdict(list)
    for track, state in durations:
        per_track[track].append(state)
    for track in tracks.track_order(per_track):
        for state in tracks.stage_order(track, per_track[track]):
            days = durations.get((track, state))
            if not days:
                continue
            median = round(statistics.median(days), 1) if len(days) >= threshold else None
            label = f"{tracks.title(track)}: {tracks.stage_label(track, state)}"
            result.append(StageStay(track, state, label, median))
    return result
