"""One transitions.Machine per workflow version, and the guards it checks.

The machine is built once with model=None and auto_transitions=False and shared
by every case on that version: a case is fired by handing a throwaway model
(just a `state`) to `machine.events[trigger].trigger(model, context=...)`.
Guards are the machine's own `conditions`, so the library itself refuses a
guarded move; the engine only asks the same guards again to explain a refusal.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from transitions import EventData, Machine

from intake.workflow.compiled import Transition, Workflow

MACHINE_CACHE_SIZE = 128


@dataclass(frozen=True)
class CaseFacts:
    """What the engine needs to know about one case; the caller reads it from the database."""

    state: str
    completed_forms: frozenset[str]
    team_functions: frozenset[str]
    answers: Mapping[str, Any]  # dotted names: "<form_id>.<field_name>"
    today: dt.date
    # The purposes the person's latest consent allows (intake.cases.consent decides them).
    consents: frozenset[str] = frozenset()
    # How many of each service type were delivered on the case (intake.cases.service_records).
    services: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Blocker:
    """Why a transition cannot be fired now: a stable code and, where useful, what is missing."""

    # missing_form, missing_team, missing_consent, missing_services, condition_not_met,
    # role_not_allowed, reason_required
    code: str
    subject: str | None = None
    # missing_services: how many more are needed.
    missing: int = 0
    # condition_not_met: the condition in plain words per language, and the forms it reads.
    explain: Mapping[str, str] | None = field(default=None, compare=False)
    forms: tuple[str, ...] = ()


@dataclass(frozen=True)
class FireContext:
    """Everything a guard may read, passed through the machine as one event argument."""

    facts: CaseFacts
    role: str
    reason: str | None


@dataclass(frozen=True)
class Guard:
    """One requirement of a transition; `blocker` is None when it is met."""

    blocker: Callable[[FireContext], Blocker | None]

    def __call__(self, event: EventData) -> bool:
        return self.blocker(event.kwargs["context"]) is None


class CaseModel:
    """The light object the machine moves; it lives for one fire only."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def guards_of(transition: Transition) -> list[Guard]:
    """The guards of a transition, role first so nothing else is evaluated for a stranger."""
    guards = [Guard(partial(_role, transition))]
    guards += [Guard(partial(_form, form)) for form in transition.requires_forms]
    guards += [Guard(partial(_team, team)) for team in transition.requires_team]
    if transition.requires_stage_team:
        guards.append(Guard(partial(_stage_team, transition)))
    guards += [Guard(partial(_consent, purpose)) for purpose in transition.requires_consent]
    guards += [
        Guard(partial(_services, code, needed))
        for code, needed in transition.requires_services.items()
    ]
    if transition.condition is not None:
        guards.append(Guard(partial(_condition, transition)))
    if transition.requires_reason:
        guards.append(Guard(_reason))
    return guards


def blockers_of(transition: Transition, context: FireContext) -> list[Blocker]:
    """Every unmet requirement, not just the first (the machine stops at the first)."""
    found = (guard.blocker(context) for guard in guards_of(transition))
    return [blocker for blocker in found if blocker is not None]


def _role(transition: Transition, context: FireContext) -> Blocker | None:
    return None if context.role in transition.roles else Blocker("role_not_allowed", context.role)


def _form(form: str, context: FireContext) -> Blocker | None:
    return None if form in context.facts.completed_forms else Blocker("missing_form", form)


def _team(function: str, context: FireContext) -> Blocker | None:
    return None if function in context.facts.team_functions else Blocker("missing_team", function)


def _stage_team(transition: Transition, context: FireContext) -> Blocker | None:
    needed = transition.requires_stage_team.get(context.facts.state, ())
    missing = [f for f in needed if f not in context.facts.team_functions]
    return Blocker("missing_team", missing[0]) if missing else None


def _consent(purpose: str, context: FireContext) -> Blocker | None:
    return None if purpose in context.facts.consents else Blocker("missing_consent", purpose)


def _services(code: str, needed: int, context: FireContext) -> Blocker | None:
    missing = needed - context.facts.services.get(code, 0)
    return None if missing <= 0 else Blocker("missing_services", code, missing=missing)


def _condition(transition: Transition, context: FireContext) -> Blocker | None:
    condition = transition.condition
    assert condition is not None
    value = condition.evaluate(context.facts.answers, today=context.facts.today)
    # Only a real True opens the way: a missing answer (None) keeps it shut.
    if value is True:
        return None
    forms = tuple(sorted({name.split(".", 1)[0] for name in condition.references if "." in name}))
    return Blocker("condition_not_met", condition.source, explain=transition.explain, forms=forms)


def _reason(context: FireContext) -> Blocker | None:
    given = context.reason is not None and context.reason.strip() != ""
    return None if given else Blocker("reason_required")


_cache: OrderedDict[tuple[str, int, str], Machine] = OrderedDict()
_cache_lock = threading.Lock()


def machine_for(workflow: Workflow) -> Machine:
    """The shared machine of this workflow version, built on first use."""
    with _cache_lock:
        machine = _cache.get(workflow.key)
        if machine is not None:
            _cache.move_to_end(workflow.key)
            return machine
    machine = build_machine(workflow)
    with _cache_lock:
        machine = _cache.setdefault(workflow.key, machine)
        while len(_cache) > MACHINE_CACHE_SIZE:
            _cache.popitem(last=False)
    return machine


def build_machine(workflow: Workflow) -> Machine:
    """A fresh machine for the workflow (callers want machine_for, which caches)."""
    states = [{"name": s.name, "final": s.final} for s in workflow.states.values()]
    transitions = [
        {
            "trigger": t.trigger,
            "source": list(t.sources),
            "dest": t.dest,
            "conditions": guards_of(t),
        }
        for t in workflow.transitions
    ]
    return Machine(
        model=None,
        states=states,
        transitions=transitions,
        initial=workflow.initial,
        auto_transitions=False,
        send_event=True,
        model_attribute="state",
        ignore_invalid_triggers=False,
        name=f"{workflow.id}@{workflow.version}",
    )
