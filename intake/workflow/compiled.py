"""A checked, compiled workflow: immutable, shared by every case on that version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from intake.expressions import Expression
from intake.workflow.schema import TrackDefinition

K = TypeVar("K")
V = TypeVar("V")


def frozen_mapping(items: Mapping[K, V]) -> Mapping[K, V]:
    """A read-only copy, so a shared workflow cannot be changed by one caller."""
    return MappingProxyType(dict(items))


@dataclass(frozen=True)
class State:
    """One stage of a track."""

    name: str
    label: Mapping[str, str]
    forms: tuple[str, ...]
    sla_days: int | None
    team: tuple[str, ...]
    final: bool
    team_required: bool = False


@dataclass(frozen=True)
class Transition:
    """One move, with its sources already expanded (no '*' left)."""

    trigger: str
    sources: tuple[str, ...]
    dest: str
    label: Mapping[str, str]
    roles: frozenset[str]
    requires_forms: tuple[str, ...]
    condition: Expression | None
    requires_team: tuple[str, ...]
    requires_reason: bool
    requires_consent: tuple[str, ...] = ()
    # The condition in plain words, per language; services needed, by type and how many.
    explain: Mapping[str, str] | None = None
    requires_services: Mapping[str, int] = field(default_factory=lambda: frozen_mapping({}))
    # From a source stage marked `team_required`: the functions that stage's team needs
    # (none for a step that requires a reason).
    requires_stage_team: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: frozen_mapping({})
    )


@dataclass(frozen=True, eq=False)
class Workflow:
    """A compiled track. Identity is (id, version, digest of the text it came from)."""

    id: str
    version: int
    digest: str
    file: str
    languages: tuple[str, ...]
    title: Mapping[str, str]
    applies_when: Expression | None
    priority: int
    initial: str
    states: Mapping[str, State]
    transitions: tuple[Transition, ...]
    definition: TrackDefinition
    # Where the track-level keys were written, for problems found across files.
    places: Mapping[str, tuple[int, int]] = field(default_factory=lambda: frozen_mapping({}))
    _routes: Mapping[tuple[str, str], Transition] = field(init=False, repr=False)

    def __repr__(self) -> str:
        return f"Workflow(id={self.id!r}, version={self.version}, file={self.file!r})"

    def __post_init__(self) -> None:
        routes = {(source, t.trigger): t for t in self.transitions for source in t.sources}
        object.__setattr__(self, "_routes", frozen_mapping(routes))

    @property
    def key(self) -> tuple[str, int, str]:
        """What a machine is cached under: two texts never share a machine."""
        return (self.id, self.version, self.digest)

    @property
    def is_catch_all(self) -> bool:
        """True for the one track that takes every case no other track claims."""
        return self.applies_when is None

    @property
    def triggers(self) -> frozenset[str]:
        """Every trigger the track defines."""
        return frozenset(t.trigger for t in self.transitions)

    def route(self, *, state: str, trigger: str) -> Transition | None:
        """The transition `trigger` fires from `state`, if the track has one."""
        return self._routes.get((state, trigger))

    def transitions_from(self, state: str) -> list[Transition]:
        """The transitions leaving `state`, in the order they were written."""
        return [t for t in self.transitions if state in t.sources]
