"""Moving open cases from one version of a track to another, previewed then applied.

The dry run and the apply call the same planning function, so what the
administrator reviewed is what happens. Applying re-plans inside the
transaction and refuses if the plan differs from the one reviewed (a case
moved or arrived in the meantime). Every case moves, or none does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.audit import service as audit
from intake.cases.models import Case
from intake.cases.rules import record_case_event
from intake.db import utcnow
from intake.definitions.models import DefinitionVersion
from intake.i18n import gettext as _

log = logging.getLogger("intake.admin")


class MigrationRefused(Exception):
    """The mapping is incomplete or wrong, or the cases changed since the dry run."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("; ".join(messages))


class MigrationFailed(Exception):
    """A step failed while moving cases; every case was left where it was."""


@dataclass(frozen=True)
class Move:
    """Open cases in one state of the old version and the state they take in the new one."""

    from_state: str
    to_state: str
    case_ids: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.case_ids)

    @property
    def kept(self) -> bool:
        return self.from_state == self.to_state


@dataclass(frozen=True)
class Plan:
    source: DefinitionVersion
    target: DefinitionVersion
    moves: tuple[Move, ...]
    missing: tuple[str, ...]  # states in use on the old version that the new one lacks
    target_states: tuple[str, ...]  # states an open case may be mapped to
    problems: tuple[str, ...]

    @property
    def total(self) -> int:
        return sum(move.count for move in self.moves)

    @property
    def fingerprint(self) -> str:
        """Names exactly which cases go where: the apply must match the reviewed plan."""
        payload = [
            self.source.id,
            self.target.id,
            [[m.from_state, m.to_state, m.case_ids] for m in self.moves],
        ]
        return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def _states(version: DefinitionVersion) -> dict[str, bool]:
    """State name -> whether it is final, read from the stored parse of the version."""
    parsed = version.parsed if isinstance(version.parsed, Mapping) else {}
    states = parsed.get("states") or {}
    return {
        str(name): bool(isinstance(state, Mapping) and state.get("final"))
        for name, state in states.items()
    }


def open_cases(*, db: Session, source: DefinitionVersion, lock: bool = False) -> list[Case]:
    """Open cases running on `source`, in a stable order (locked when about to move them)."""
    query = (
        select(Case)
        .where(
            Case.workflow_version_id == source.id,
            Case.track == source.key,
            Case.closed_at.is_(None),
        )
        .order_by(Case.id)
    )
    if lock:
        query = query.with_for_update()
    return list(db.execute(query).scalars())


def plan_migration(
    *,
    db: Session,
    source: DefinitionVersion,
    target: DefinitionVersion,
    mapping: Mapping[str, str],
    lock: bool = False,
) -> Plan:
    """Which open cases move from which state to which; problems if any case would be lost."""
    problems: list[str] = []
    if source.kind != "workflow" or target.kind != "workflow" or source.key != target.key:
        problems.append(_("Cases can only move between versions of the same track."))
    if source.id == target.id:
        problems.append(_("Choose two different versions."))
    target_states = _states(target)
    open_states = [name for name, final in target_states.items() if not final]
    groups: dict[str, list[str]] = {}
    for case in open_cases(db=db, source=source, lock=lock):
        groups.setdefault(case.state, []).append(case.id)
    missing = tuple(sorted(state for state in groups if state not in target_states))
    moves = []
    for state in sorted(groups):
        dest = state if state in target_states else mapping.get(state, "")
        if not dest:
            problems.append(_("Choose a new state for the cases in '%(state)s'.", state=state))
        elif dest not in target_states:
            problems.append(_("The new version has no state '%(state)s'.", state=dest))
        elif target_states[dest] and state not in target_states:
            problems.append(
                _(
                    "Open cases cannot be moved into the final state '%(state)s'; "
                    "close them through the workflow.",
                    state=dest,
                )
            )
        moves.append(Move(state, dest, tuple(groups[state])))
    return Plan(
        source=source,
        target=target,
        moves=tuple(moves),
        missing=missing,
        target_states=tuple(open_states),
        problems=tuple(problems),
    )


def move_case(
    *,
    db: Session,
    case: Case,
    to_state: str,
    target: DefinitionVersion,
    actor: User,
    now: dt.datetime,
) -> None:
    """Put one case on the target version in `to_state`, with a history row saying so."""
    from_state = case.state
    case.workflow_version_id = target.id
    if to_state != from_state:
        case.state = to_state
        case.state_entered_at = now
    # One audit row for the whole migration (apply_migration), a history row per case.
    record_case_event(
        db=db,
        case=case,
        actor=actor,
        action=None,
        at=now,
        kind="migrated",
        history={"from_state": from_state, "to_state": to_state},
        commit=False,
    )


def apply_migration(
    *,
    db: Session,
    source: DefinitionVersion,
    target: DefinitionVersion,
    mapping: Mapping[str, str],
    expected: str,
    actor: User,
) -> Plan:
    """Move every open case as planned, in one transaction, or refuse and move none."""
    plan = plan_migration(db=db, source=source, target=target, mapping=mapping, lock=True)
    if plan.problems:
        raise MigrationRefused(list(plan.problems))
    if plan.fingerprint != expected:
        raise MigrationRefused(
            [_("The open cases changed since the dry run. Run the dry run again and review it.")]
        )
    now = utcnow()
    try:
        with db.begin_nested():
            for move in plan.moves:
                for case_id in move.case_ids:
                    move_case(
                        db=db,
                        case=db.get_one(Case, case_id),  # loaded (and locked) by the plan
                        to_state=move.to_state,
                        target=target,
                        actor=actor,
                        now=now,
                    )
            audit.record(
                db=db,
                action="cases.migrated",
                actor_id=actor.id,
                object_type="definition_version",
                object_id=target.id,
                detail=f"{plan.total} open cases from version {source.number}",
            )
            db.flush()
    except Exception as exc:
        # Whatever failed (a supervisor's concurrent change, a lost connection),
        # the savepoint is gone and no case moved; only the type is logged.
        log.warning("case migration rolled back: %s", type(exc).__name__)
        raise MigrationFailed from exc
    db.commit()
    return plan
