"""The supervisor dashboard's figures: every count goes through access.visible_cases.

Counting happens in SQL (GROUP BY over the scoped query); Python only labels the
groups, and computes medians and date arithmetic, which SQLite and PostgreSQL
do differently. Stage and track labels come from the workflow definitions, in
the reader's language.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from intake.accounts.models import Role, User
from intake.cases import rules, stage_counts
from intake.cases.access import visible_cases
from intake.cases.dashboard_weeks import WEEKS as WEEKS  # the views read it here
from intake.cases.dashboard_weeks import Week, weekly
from intake.cases.models import Case, CaseHistory
from intake.db import UtcDateTime
from intake.definitions import service as definitions
from intake.workflow.compiled import Workflow

OVERDUE_SHOWN = 50
# Completed stays older than this no longer say how the organisation works today.
MEDIAN_WINDOW = dt.timedelta(days=365)
# History rows that put a case into a stage (team changes leave to_state empty).
ENTERING_KINDS = ("created", "transition", "track_changed", "migrated")


@dataclass(frozen=True)
class StageRow:
    """One stage of a track with its open and overdue counts."""

    state: str
    label: str
    open: int
    overdue: int


@dataclass(frozen=True)
class TrackCounts:
    """The open cases of one track, stage by stage, in the definition's order."""

    track: str
    title: str
    stages: tuple[StageRow, ...]

    @property
    def total(self) -> int:
        """Open cases on the track."""
        return sum(row.open for row in self.stages)


@dataclass(frozen=True)
class OverdueCase:
    """An open case past its stage's sla_days (named by reference and opaque id only)."""

    id: str
    reference: str
    track_title: str
    stage_label: str
    days_in_stage: int
    sla_days: int


@dataclass(frozen=True)
class StageMedian:
    """The median stay in one stage, over completed and ongoing stays."""

    state: str
    label: str
    median_days: float
    stays: int
    ongoing: int


@dataclass(frozen=True)
class TrackMedians:
    """Median days per stage of one track."""

    track: str
    title: str
    stages: tuple[StageMedian, ...]


@dataclass(frozen=True)
class Dashboard:
    """Everything the supervisor dashboard shows."""

    tracks: tuple[TrackCounts, ...]
    overdue_total: int
    overdue: tuple[OverdueCase, ...]
    medians: tuple[TrackMedians, ...]
    weeks: tuple[Week, ...]
    closed_total: int


class Tracks:
    """The workflow versions cases run on, and each track's labels and stage order.

    A track's newest published version gives its title and stage order; a stage
    that only an older version still has comes after, with its own label.
    """

    def __init__(self, *, db: Session, version_ids: Iterable[str] = ()) -> None:
        self.by_version: dict[str, Workflow] = {}
        self.display: dict[str, Workflow] = {}
        for version, workflow in definitions.current_workflows(db=db):
            self.by_version[version.id] = workflow
            self.display[workflow.id] = workflow
            older = definitions.versions(db=db, kind="workflow", key=version.key)
            self.load(db=db, version_ids=[v.id for v in older])
        self.load(db=db, version_ids=version_ids)

    def load(self, *, db: Session, version_ids: Iterable[str | None]) -> None:
        """Compile the versions not loaded yet (each is compiled once per text, cached)."""
        for version_id in {v for v in version_ids if v} - self.by_version.keys():
            version = definitions.get_version(db=db, version_id=version_id)
            if version is not None:
                workflow = definitions.compiled_workflow(db=db, version=version)
                self.by_version[version_id] = workflow
                self.display.setdefault(workflow.id, workflow)

    def title(self, track: str) -> str:
        """The track's name in the reader's language."""
        workflow = self.display.get(track)
        return (rules.label_in(workflow.title, workflow.languages) if workflow else "") or track

    def stage_label(self, track: str, state: str) -> str:
        """A stage's name in the reader's language (from an older version if only it has it)."""
        versions = [w for w in self.by_version.values() if w.id == track]
        for workflow in [self.display.get(track), *versions]:
            if workflow is not None and state in workflow.states:
                return rules.label_in(workflow.states[state].label, workflow.languages) or state
        return state

    def stage_order(self, track: str, seen: Iterable[str]) -> list[str]:
        """The track's open stages in definition order, then any other stage seen."""
        workflow = self.display.get(track)
        order = [n for n, s in workflow.states.items() if not s.final] if workflow else []
        return order + sorted(set(seen) - set(order))

    def track_order(self, seen: Iterable[str]) -> list[str]:
        """Tracks by their title in the reader's language."""
        return sorted(set(seen), key=self.title)

    def is_final(self, version_id: str | None, state: str) -> bool:
        """Whether the stage ends the case (its stays are not counted)."""
        workflow = self.by_version.get(version_id or "")
        return workflow is not None and state in workflow.states and workflow.states[state].final

    def stages_with_sla(self) -> list[tuple[str, str]]:
        """Every (version id, stage) pair that has sla_days."""
        return [
            (version_id, name)
            for version_id, workflow in self.by_version.items()
            for name, state in workflow.states.items()
            if state.sla_days is not None
        ]

    def sla_days(self, version_id: str, state: str) -> int | None:
        """The stage's expected maximum stay in the case's own workflow version."""
        workflow = self.by_version.get(version_id)
        if workflow is None or state not in workflow.states:
            return None
        return workflow.states[state].sla_days


def _open(user: User) -> Select[Case]:
    return visible_cases(user=user).where(Case.closed_at.is_(None))


def _overdue_condition(
    tracks: Tracks, pairs: Iterable[tuple[str, str]], now: dt.datetime
) -> ColumnElement[bool]:
    # The rule is intake.cases.rules.is_overdue, as on the case page.
    stages = [
        (version_id, state, sla)
        for version_id, state in sorted(set(pairs))
        if (sla := tracks.sla_days(version_id, state)) is not None
    ]
    return rules.overdue_sql(stages=stages, now=now)


def _grouped(
    *, db: Session, user: User, overdue: ColumnElement[bool]
) -> dict[tuple[str, str, str], tuple[int, int, int]]:
    # One pass over the organisation's cases gives open, overdue and closed
    # counts per (version, track, stage): each scan costs as much as the rest.
    is_open = Case.closed_at.is_(None)
    rows = db.execute(
        visible_cases(user=user)
        .with_only_columns(
            Case.workflow_version_id,
            Case.track,
            Case.state,
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((and_(is_open, overdue), 1), else_=0)),
            func.sum(case((is_open, 0), else_=1)),
        )
        .group_by(Case.workflow_version_id, Case.track, Case.state)
        .order_by(None)
    ).all()
    return {(v, t, s): (int(o), int(d), int(c)) for v, t, s, o, d, c in rows}


def _counted(
    *, db: Session, user: User, overdue: ColumnElement[bool]
) -> dict[tuple[str, str, str], tuple[int, int, int]]:
    """As _grouped, with open and closed from the maintained counts (stage_counts): only
    the overdue cases are counted here, and only among the open ones."""
    if not (user.active and user.role == Role.SUPERVISOR):
        return _grouped(db=db, user=user, overdue=overdue)
    kept = stage_counts.counts(db=db, organisation_id=user.organisation_id)
    late = db.execute(
        _open(user)
        .where(overdue)
        .with_only_columns(Case.workflow_version_id, Case.track, Case.state, func.count())
        .group_by(Case.workflow_version_id, Case.track, Case.state)
        .order_by(None)
    ).all()
    overdue_by = {(v, t, s): int(n) for v, t, s, n in late}
    return {key: (opened, overdue_by.get(key, 0), closed) for key, (opened, closed) in kept.items()}


def open_by_stage(
    *,
    tracks: Tracks,
    counts: Mapping[tuple[str, str, str], tuple[int, int, int]],
) -> list[TrackCounts]:
    """Open and overdue counts per track and open stage, from (version, track, stage) groups."""
    per_track: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for (_v, track, state), (opened, overdue, _closed) in counts.items():
        if opened:
            per_track[track][state][0] += opened
            per_track[track][state][1] += overdue
    result = []
    for track in tracks.track_order(per_track):
        stages = per_track[track]
        rows = tuple(
            StageRow(state, tracks.stage_label(track, state), *stages.get(state, (0, 0)))
            for state in tracks.stage_order(track, stages)
        )
        result.append(TrackCounts(track, tracks.title(track), rows))
    return result


def overdue_cases(
    *, db: Session, user: User, tracks: Tracks, condition: ColumnElement[bool], now: dt.datetime
) -> list[OverdueCase]:
    """The open cases longest in their stage among the overdue, at most OVERDUE_SHOWN."""
    rows = db.execute(
        _open(user)
        .where(condition)
        .with_only_columns(
            Case.id,
            Case.reference,
            Case.track,
            Case.workflow_version_id,
            Case.state,
            Case.state_entered_at,
        )
        .order_by(Case.state_entered_at, Case.id)
        .limit(OVERDUE_SHOWN)
    ).all()
    return [
        OverdueCase(
            id=row.id,
            reference=row.reference,
            track_title=tracks.title(row.track),
            stage_label=tracks.stage_label(row.track, row.state),
            days_in_stage=rules.days_in_stage(entered_at=row.state_entered_at, now=now),
            sla_days=tracks.sla_days(row.workflow_version_id, row.state) or 0,
        )
        for row in rows
    ]


def stage_medians(
    *, db: Session, user: User, tracks: Tracks, now: dt.datetime
) -> list[TrackMedians]:
    """Median days per stage: stays that ended within MEDIAN_WINDOW, and ongoing ones to `now`.

    Ongoing stays count with their length so far: leaving them out would hide
    the cases stuck longest, which a supervisor most needs to see.
    """
    scoped = visible_cases(user=user).with_only_columns(Case.id).subquery()
    entering = and_(
        CaseHistory.kind.in_(ENTERING_KINDS),
        CaseHistory.to_state != "",
        # A migration that keeps the stage does not start a new stay.
        or_(CaseHistory.kind != "migrated", CaseHistory.from_state != CaseHistory.to_state),
    )
    left = func.lead(CaseHistory.at, type_=UtcDateTime()).over(
        partition_by=CaseHistory.case_id, order_by=(CaseHistory.at, CaseHistory.id)
    )
    stays = (
        select(
            CaseHistory.workflow_version_id.label("version_id"),
            CaseHistory.to_state.label("state"),
            CaseHistory.at.label("entered"),
            left.label("left"),
        )
        .join(scoped, scoped.c.id == CaseHistory.case_id)
        .where(entering)
        .subquery()
    )
    rows = db.execute(
        select(stays).where(or_(stays.c.left.is_(None), stays.c.left >= now - MEDIAN_WINDOW))
    ).all()
    tracks.load(db=db, version_ids={row.version_id for row in rows})
    durations: dict[tuple[str, str], list[float]] = defaultdict(list)
    ongoing: dict[tuple[str, str], int] = defaultdict(int)
    for version_id, state, entered, left_at in rows:
        workflow = tracks.by_version.get(version_id or "")
        if workflow is None or tracks.is_final(version_id, state):
            continue
        key = (workflow.id, state)
        durations[key].append(((left_at or now) - entered).total_seconds() / 86400)
        ongoing[key] += left_at is None
    per_track: dict[str, list[str]] = defaultdict(list)
    for track, state in durations:
        per_track[track].append(state)
    result = []
    for track in tracks.track_order(per_track):
        stages = tuple(
            StageMedian(
                state,
                tracks.stage_label(track, state),
                round(statistics.median(durations[(track, state)]), 1),
                len(durations[(track, state)]),
                ongoing[(track, state)],
            )
            for state in tracks.stage_order(track, per_track[track])
            if (track, state) in durations
        )
        result.append(TrackMedians(track, tracks.title(track), stages))
    return result


def dashboard(*, db: Session, user: User, now: dt.datetime, timezone: str) -> Dashboard:
    """The figures of the cases `user` may see (a supervisor: their organisation's)."""
    # Every stored version of every track is known before counting, so the
    # overdue rule of each is in the one counting query.
    tracks = Tracks(db=db)
    condition = _overdue_condition(tracks, tracks.stages_with_sla(), now)
    counts = _counted(db=db, user=user, overdue=condition)
    return Dashboard(
        tracks=tuple(open_by_stage(tracks=tracks, counts=counts)),
        overdue_total=sum(overdue for _o, overdue, _c in counts.values()),
        overdue=tuple(overdue_cases(db=db, user=user, tracks=tracks, condition=condition, now=now)),
        medians=tuple(stage_medians(db=db, user=user, tracks=tracks, now=now)),
        weeks=tuple(weekly(db=db, user=user, now=now, timezone=timezone)),
        closed_total=sum(closed for _o, _d, closed in counts.values()),
    )
