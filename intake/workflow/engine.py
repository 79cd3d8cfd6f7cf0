"""The workflow engine the service layer calls: what may happen to a case, and making it happen.

Nothing here touches a database. The caller reads a case into CaseFacts, asks
for actions or fires one, and stores the new state (with its history and audit
entry) in its own transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from transitions import MachineError

from intake.workflow.compiled import Workflow
from intake.workflow.machine import (
    Blocker,
    CaseFacts,
    CaseModel,
    FireContext,
    blockers_of,
    machine_for,
)

__all__ = [
    "Action",
    "Blocker",
    "CaseFacts",
    "FireResult",
    "TransitionRefused",
    "available_actions",
    "choose_track",
    "fire",
]


@dataclass(frozen=True)
class Action:
    """A transition leaving the case's state, and everything that stops it today."""

    trigger: str
    dest: str
    label: Mapping[str, str]
    requires_reason: bool
    blockers: tuple[Blocker, ...]

    @property
    def ready(self) -> bool:
        """True when it can be fired now, given a reason if it asks for one."""
        return all(b.code == "reason_required" for b in self.blockers)


@dataclass(frozen=True)
class FireResult:
    """The outcome of a fire that the machine accepted."""

    previous_state: str
    new_state: str
    trigger: str


class TransitionRefused(Exception):
    """A fire was refused; nothing changed. `code` is stable, `details` says more."""

    def __init__(self, code: str, details: Mapping[str, Any] | None = None) -> None:
        self.code = code
        self.details: Mapping[str, Any] = dict(details or {})
        super().__init__(f"{code}: {self.details}")


def available_actions(*, workflow: Workflow, facts: CaseFacts, role: str) -> list[Action]:
    """Every transition out of the case's state, with what blocks each for this role."""
    context = FireContext(facts=facts, role=role, reason=None)
    return [
        Action(
            trigger=t.trigger,
            dest=t.dest,
            label=t.label,
            requires_reason=t.requires_reason,
            blockers=tuple(blockers_of(t, context)),
        )
        for t in workflow.transitions_from(facts.state)
    ]


def fire(
    *, workflow: Workflow, facts: CaseFacts, role: str, trigger: str, reason: str | None
) -> FireResult:
    """Move the case by `trigger`, or raise TransitionRefused and change nothing."""
    machine = machine_for(workflow)
    event = machine.events.get(trigger)
    if event is None:
        raise TransitionRefused("unknown_trigger", {"trigger": trigger})
    if facts.state not in workflow.states:
        raise TransitionRefused("unknown_state", {"state": facts.state})
    transition = workflow.route(state=facts.state, trigger=trigger)
    if transition is None:
        raise TransitionRefused(
            "not_allowed_from_state", {"trigger": trigger, "state": facts.state}
        )
    context = FireContext(facts=facts, role=role, reason=reason)
    model = CaseModel(facts.state)
    try:
        moved = event.trigger(model, context=context)
    except MachineError:  # the route table and the machine disagree: refuse, never guess
        raise TransitionRefused(
            "not_allowed_from_state", {"trigger": trigger, "state": facts.state}
        ) from None
    if not moved:
        raise _refusal(trigger, blockers_of(transition, context))
    return FireResult(previous_state=facts.state, new_state=model.state, trigger=trigger)


def _refusal(trigger: str, blockers: Sequence[Blocker]) -> TransitionRefused:
    codes = {b.code for b in blockers}
    if "role_not_allowed" in codes:
        # Say nothing about the case's other facts to a role that may not act on it.
        return TransitionRefused("role_not_allowed", {"trigger": trigger})
    failed = [b for b in blockers if b.code != "reason_required"]
    if failed:
        return TransitionRefused("guard_failed", {"trigger": trigger, "blockers": failed})
    return TransitionRefused("reason_required", {"trigger": trigger})


def choose_track(
    *, workflows: Sequence[Workflow], answers: Mapping[str, Any], today: dt.date
) -> Workflow:
    """The highest-priority track whose applies_when holds, else the catch-all."""
    conditional = sorted(
        (w for w in workflows if w.applies_when is not None), key=lambda w: -w.priority
    )
    for workflow in conditional:
        assert workflow.applies_when is not None
        if workflow.applies_when.evaluate(answers, today=today) is True:
            return workflow
    for workflow in workflows:
        if workflow.is_catch_all:
            return workflow
    raise LookupError("no track applies and none catches every case")
