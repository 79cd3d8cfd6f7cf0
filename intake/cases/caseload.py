"""Caseloads: my cases, my organisation's, the overdue ones; filters, search, keyset pages.

Every list and count starts from access.visible_cases. Pages are cut by keyset
on (last_activity_at, id), newest first: page 50 costs what page 1 costs, and a
case that moves while someone pages is neither shown twice nor skipped because
of an offset. Counts stop at COUNT_CAP: past it a person needs a filter, not a
number, and counting every row of a large organisation on each page is waste.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import caseload_attention as attention
from intake.cases import references, rules
from intake.cases.access import visible_cases
from intake.cases.labels import state_label, track_title, workflow_of_version
from intake.cases.models import Case, CaseTeamMember
from intake.config import Settings
from intake.db import UtcDateTime
from intake.definitions import service as definitions
from intake.definitions.models import DefinitionVersion
from intake.security.permissions import Permission, has_permission
from intake.workflow.compiled import Workflow

Tab = Literal["mine", "organisation", "attention", "overdue"]
PAGE_SIZE = 25
COUNT_CAP = 1000
_CURSOR = re.compile(r"(\d{1,20})-([0-9a-f]{32})")


@dataclass(frozen=True)
class Filters:
    """What the person asked for; `reference` is the typed text, normalised later."""

    tab: Tab = "mine"
    stage: str = ""
    track: str = ""
    reference: str = ""


@dataclass(frozen=True)
class Row:
    """One case in a list, as the reader sees it."""

    id: str
    reference: str
    track: str
    stage: str
    days_in_stage: int
    overdue: bool
    closed: bool
    why: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    """One page of a list and the cursor of the next one."""

    rows: list[Row]
    next_cursor: str | None
    count: int
    capped: bool
    bad_reference: bool = False


def tabs_for(user: User) -> list[Tab]:
    """The lists a role has: the organisation's and the attention list only for supervisors."""
    if has_permission(user, Permission.CASES_ORGANISATION):
        return ["organisation", "attention", "mine", "overdue"]
    return ["mine", "overdue"]


def tab_counts(
    *, db: Session, user: User, now: dt.datetime, settings: Settings | None = None
) -> dict[Tab, tuple[int, bool]]:
    """Each list's capped count (and whether more), in the order of tabs_for."""
    counts: dict[Tab, tuple[int, bool]] = {}
    for name in tabs_for(user):
        filters = Filters(tab=name)
        query, _bad = filtered(db=db, user=user, filters=filters, now=now, settings=settings)
        counts[name] = list_count(db=db, user=user, filters=filters, query=query)
    return counts


def choose_tab(*, user: User, asked: str, counts: dict[Tab, tuple[int, bool]]) -> Tab:
    """The list asked for; without one, the first list of the role that is not empty
    (a supervisor's organisation first), else the role's first list."""
    tabs = tabs_for(user)
    if asked in tabs:
        return next(t for t in tabs if t == asked)
    return next((t for t in tabs if counts.get(t, (0, False))[0] > 0), tabs[0])


def _sees_organisation(user: User) -> bool:
    return has_permission(user, Permission.CASES_ORGANISATION)


def _mine(user: User) -> ColumnElement[bool]:
    on_team = exists().where(
        CaseTeamMember.case_id == Case.id,
        CaseTeamMember.user_id == user.id,
        CaseTeamMember.removed_at.is_(None),
    )
    return or_(Case.owner_id == user.id, on_team)


def overdue_condition(*, db: Session, now: dt.datetime) -> ColumnElement[bool]:
    """Open cases that have been in their stage longer than the stage's sla_days.

    The rule is intake.cases.rules.is_overdue, as on the case page. Each workflow
    version may set its own limits, so the condition names each (version, stage) pair.
    """
    stages = []
    for version in _workflow_versions(db):
        workflow = definitions.compiled_workflow(db=db, version=version)
        stages += [
            (version.id, name, state.sla_days)
            for name, state in workflow.states.items()
            if state.sla_days is not None and not state.final
        ]
    if not stages:
        return false()
    return and_(Case.closed_at.is_(None), rules.overdue_sql(stages=stages, now=now))


def _workflow_versions(db: Session) -> list[DefinitionVersion]:
    return list(
        db.execute(select(DefinitionVersion).where(DefinitionVersion.kind == "workflow")).scalars()
    )


def filtered(
    *,
    db: Session,
    user: User,
    filters: Filters,
    now: dt.datetime,
    settings: Settings | None = None,
) -> tuple[Select[Case], bool]:
    """The cases of a list as a query, and whether a typed reference could not be read."""
    query = visible_cases(user=user)
    typed = filters.reference.strip()
    if typed:
        # A reference names one case wherever it is: tabs and filters do not hide it.
        reference = references.normalise(typed)
        if reference is None:
            return query.where(false()), True
        return query.where(Case.reference == reference), False
    if filters.tab == "mine" or (filters.tab == "organisation" and not _sees_organisation(user)):
        query = query.where(_mine(user))
    elif filters.tab == "overdue":
        query = query.where(overdue_condition(db=db, now=now))
    elif filters.tab == "attention":
        overdue = overdue_condition(db=db, now=now)
        query = query.where(
            attention.attention_condition(
                db=db, user=user, now=now, overdue=overdue, settings=settings
            )
        )
    if filters.track:
        query = query.where(Case.track == filters.track)
    if filters.stage:
        query = query.where(Case.state == filters.stage)
    elif filters.tab != "overdue":
        # Without a stage chosen, a list is of the cases still being worked on.
        query = query.where(Case.closed_at.is_(None))
    return query, False


def capped_count(*, db: Session, query: Select[Case]) -> tuple[int, bool]:
    """How many cases the query finds, counting no further than COUNT_CAP (True when more)."""
    found = _count_up_to(db, query, COUNT_CAP + 1)
    return min(found, COUNT_CAP), found > COUNT_CAP


def _count_up_to(db: Session, query: Select[Case], limit: int) -> int:
    limited = query.with_only_columns(Case.id).order_by(None).limit(limit).subquery()
    return int(db.execute(select(func.count()).select_from(limited)).scalar_one())


def _is_personal(user: User, filters: Filters) -> bool:
    # A worker's every list, and a supervisor's "mine", hold only the user's cases.
    return not filters.reference.strip() and (not _sees_organisation(user) or filters.tab == "mine")


def _personal_parts(query: Select[Case], user: User) -> tuple[Select[Case], Select[Case]]:
    """A personal list as two disjoint parts, each read from its own index.

    Filtering an organisation's cases one by one for "owned or on the team"
    costs as much as the organisation is large. The cases a user owns come in
    activity order from the (owner, activity) index; the few more they are on
    the team of come from the team index. Both stay inside `query`, the scoped one.
    """
    on_team = select(CaseTeamMember.case_id).where(
        CaseTeamMember.user_id == user.id, CaseTeamMember.removed_at.is_(None)
    )
    return (
        query.where(Case.owner_id == user.id),
        query.where(Case.owner_id != user.id, Case.id.in_(on_team)),
    )


def list_count(
    *, db: Session, user: User, filters: Filters, query: Select[Case]
) -> tuple[int, bool]:
    """The capped count of a list built by `filtered` with these filters."""
    if not _is_personal(user, filters):
        return capped_count(db=db, query=query)
    found = sum(_count_up_to(db, part, COUNT_CAP + 1) for part in _personal_parts(query, user))
    return min(found, COUNT_CAP), found > COUNT_CAP


def _newest(db: Session, query: Select[Case], limit: int) -> list[Case]:
    ordered = query.order_by(Case.last_activity_at.desc(), Case.id.desc()).limit(limit)
    return list(db.execute(ordered).scalars())


def encode_cursor(at: dt.datetime, case_id: str) -> str:
    """The position after a case, for the next page's URL (a time and an opaque id)."""
    stamp = at.astimezone(dt.UTC)
    micros = (stamp - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    return f"{micros}-{case_id}"


def decode_cursor(text: str) -> tuple[dt.datetime, str] | None:
    """The position a cursor names; None for anything that is not one."""
    found = _CURSOR.fullmatch(text or "")
    if found is None:
        return None
    try:
        at = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=int(found[1]))
    except OverflowError:
        return None
    return at, found[2]


def page(
    *,
    db: Session,
    user: User,
    filters: Filters,
    after: str = "",
    now: dt.datetime,
    size: int | None = None,
    settings: Settings | None = None,
) -> Page:
    """One page of a list, newest activity first, after the cursor `after` (keyset, no OFFSET)."""
    size = size or PAGE_SIZE
    query, bad_reference = filtered(db=db, user=user, filters=filters, now=now, settings=settings)
    count, capped = list_count(db=db, user=user, filters=filters, query=query)
    position = decode_cursor(after)
    if position is not None:
        at, case_id = position
        after_row = tuple_(literal(at, UtcDateTime()), literal(case_id, String(32)))
        query = query.where(tuple_(Case.last_activity_at, Case.id) < after_row)
    if _is_personal(user, filters):
        merged = [
            case for part in _personal_parts(query, user) for case in _newest(db, part, size + 1)
        ]
        merged.sort(key=lambda case: (case.last_activity_at, case.id), reverse=True)
        cases = merged[: size + 1]
    else:
        cases = _newest(db, query, size + 1)
    more = len(cases) > size
    cases = cases[:size]
    workflows: dict[str, Workflow | None] = {}
    rows = [_row(db, case, workflows, now) for case in cases]
    if filters.tab == "attention" and not filters.reference.strip():
        reasons = attention.why(db=db, user=user, cases=cases, now=now, settings=settings)
        rows = [dataclasses.replace(row, why=reasons[row.id].sentences) for row in rows]
    cursor = encode_cursor(cases[-1].last_activity_at, cases[-1].id) if more else None
    return Page(rows, cursor, count, capped, bad_reference)


def _row(db: Session, case: Case, workflows: dict[str, Workflow | None], now: dt.datetime) -> Row:
    if case.workflow_version_id not in workflows:
        workflows[case.workflow_version_id] = workflow_of_version(db, case.workflow_version_id)
    workflow = workflows[case.workflow_version_id]
    state = workflow.states.get(case.state) if workflow else None
    sla = state.sla_days if state else None
    closed = case.closed_at is not None
    return Row(
        id=case.id,
        reference=case.reference,
        track=track_title(workflow),
        stage=state_label(workflow, case.state),
        days_in_stage=rules.days_in_stage(entered_at=case.state_entered_at, now=now),
        overdue=rules.is_overdue(
            entered_at=case.state_entered_at, sla_days=sla, closed=closed, now=now
        ),
        closed=closed,
    )


def filter_choices(*, db: Session) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The tracks and the stages a list may be filtered by, labelled for the reader."""
    tracks: list[tuple[str, str]] = []
    stages: dict[str, str] = {}
    for _version, workflow in definitions.current_workflows(db=db):
        tracks.append((workflow.id, track_title(workflow)))
        for name in workflow.states:
            stages.setdefault(name, state_label(workflow, name))
    return tracks, sorted(stages.items(), key=lambda item: item[1])
