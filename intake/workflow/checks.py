"""Rules a track must keep that a schema cannot express, each placed in the file.

Every check appends to one list so an author sees all problems at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence

from intake.i18n import gettext as _
from intake.workflow.schema import ANY_STATE, TrackDefinition, TransitionDefinition
from intake.yaml_source import Problem, Source


def expand_sources(transition: TransitionDefinition, definition: TrackDefinition) -> list[str]:
    """The states a transition leaves from; '*' means every non-final state."""
    if transition.source == ANY_STATE:
        return [name for name, state in definition.states.items() if not state.final]
    if isinstance(transition.source, str):
        return [transition.source]
    return list(transition.source)


def structural_problems(
    source: Source,
    definition: TrackDefinition,
    *,
    forms: Collection[str],
    roles: Collection[str],
    team_functions: Collection[str],
) -> list[Problem]:
    """Every problem of translations, references and the shape of the graph."""
    problems: list[Problem] = []
    problems += _translation_problems(source, definition)
    problems += _reference_problems(source, definition, forms, roles, team_functions)
    problems += _state_problems(source, definition)
    problems += _graph_problems(source, definition)
    return problems


def _translation_problems(source: Source, definition: TrackDefinition) -> list[Problem]:
    problems: list[Problem] = []
    declared = definition.languages
    for index, language in enumerate(declared):
        if language in declared[:index]:
            problems.append(
                source.problem(
                    ("languages", index), _("'%(language)s' is listed twice", language=language)
                )
            )

    labelled: list[tuple[tuple[str | int, ...], Mapping[str, str]]] = [
        (("title",), definition.title)
    ]
    labelled += [(("states", n, "label"), s.label) for n, s in definition.states.items()]
    labelled += [
        (("transitions", i, "label"), t.label) for i, t in enumerate(definition.transitions)
    ]
    for path, labels in labelled:
        for language in declared:
            if language not in labels:
                problems.append(
                    source.problem(
                        path, _("the '%(language)s' translation is missing", language=language)
                    )
                )
        for language in labels:
            if language not in declared:
                problems.append(
                    source.problem(
                        (*path, language),
                        _("'%(language)s' is not one of the track's languages", language=language),
                    )
                )
    return problems


def _unknown(
    source: Source,
    path: tuple[str | int, ...],
    names: Sequence[str],
    known: Collection[str],
    kind: str,
) -> Iterable[Problem]:
    for index, name in enumerate(names):
        if name not in known:
            yield source.problem((*path, index), _unknown_message(kind, name))


def _unknown_message(kind: str, name: str) -> str:
    if kind == "form":
        return _("unknown form '%(name)s'", name=name)
    if kind == "role":
        return _("unknown role '%(name)s'", name=name)
    return _("unknown team function '%(name)s'", name=name)


def _reference_problems(
    source: Source,
    definition: TrackDefinition,
    forms: Collection[str],
    roles: Collection[str],
    team_functions: Collection[str],
) -> list[Problem]:
    problems: list[Problem] = []
    for name, state in definition.states.items():
        problems += _unknown(source, ("states", name, "forms"), state.forms, forms, "form")
        problems += _unknown(
            source, ("states", name, "team"), state.team, team_functions, "team function"
        )
    for index, t in enumerate(definition.transitions):
        at = ("transitions", index)
        problems += _unknown(source, (*at, "roles"), t.roles, roles, "role")
        problems += _unknown(source, (*at, "requires_forms"), t.requires_forms, forms, "form")
        problems += _unknown(
            source, (*at, "requires_team"), t.requires_team, team_functions, "team function"
        )
        if t.dest not in definition.states:
            problems.append(
                source.problem((*at, "dest"), _("unknown state '%(name)s'", name=t.dest))
            )
        if isinstance(t.source, list):
            for position, name in enumerate(t.source):
                if name not in definition.states:
                    problems.append(
                        source.problem(
                            (*at, "source", position), _("unknown state '%(name)s'", name=name)
                        )
                    )
        elif t.source != ANY_STATE and t.source not in definition.states:
            problems.append(
                source.problem((*at, "source"), _("unknown state '%(name)s'", name=t.source))
            )
    return problems


def _state_problems(source: Source, definition: TrackDefinition) -> list[Problem]:
    problems: list[Problem] = []
    initial = definition.states.get(definition.initial)
    if initial is None:
        problems.append(
            source.problem(("initial",), _("unknown state '%(name)s'", name=definition.initial))
        )
    elif initial.final:
        problems.append(source.problem(("initial",), _("the initial state cannot be final")))
    if not any(state.final for state in definition.states.values()):
        problems.append(source.problem(("states",), _("the track has no final state")))
    for index, t in enumerate(definition.transitions):
        # Closed means closed: reopening is a new decision, made by a new transition
        # out of a non-final state, so a final state refuses every way out.
        names = [t.source] if isinstance(t.source, str) else t.source
        for position, name in enumerate(names):
            state = definition.states.get(name)
            if state is not None and state.final:
                path: tuple[str | int, ...] = ("transitions", index, "source")
                if isinstance(t.source, list):
                    path = (*path, position)
                problems.append(
                    source.problem(
                        path, _("'%(name)s' is final: no transition may leave it", name=name)
                    )
                )
    return problems


def _graph_problems(source: Source, definition: TrackDefinition) -> list[Problem]:
    problems: list[Problem] = []
    edges: dict[str, set[str]] = {name: set() for name in definition.states}
    seen: dict[tuple[str, str], int] = {}
    for index, t in enumerate(definition.transitions):
        for name in expand_sources(t, definition):
            if name not in edges:
                continue
            if (name, t.trigger) in seen:
                first = seen[(name, t.trigger)]
                problems.append(
                    source.problem(
                        ("transitions", index, "trigger"),
                        _(
                            "'%(trigger)s' already leaves '%(name)s' (transition %(number)s)",
                            trigger=t.trigger,
                            name=name,
                            number=first + 1,
                        ),
                    )
                )
            seen.setdefault((name, t.trigger), index)
            if t.dest in edges and not definition.states[name].final:
                edges[name].add(t.dest)

    if definition.initial in edges:
        reached = _reachable({definition.initial}, edges)
        for name in definition.states:
            if name not in reached:
                problems.append(
                    source.problem(
                        ("states", name),
                        _("no transition reaches '%(name)s' from the start", name=name),
                    )
                )
    reverse: dict[str, set[str]] = {name: set() for name in definition.states}
    for origin, dests in edges.items():
        for dest in dests:
            reverse[dest].add(origin)
    can_finish = _reachable({n for n, s in definition.states.items() if s.final}, reverse)
    for name, state in definition.states.items():
        if state.final:
            continue
        if not edges[name]:
            problems.append(
                source.problem(
                    ("states", name), _("'%(name)s' is not final and has no way out", name=name)
                )
            )
        elif name not in can_finish and can_finish:
            problems.append(
                source.problem(
                    ("states", name), _("no final state can be reached from '%(name)s'", name=name)
                )
            )
    return problems


def _reachable(start: set[str], edges: Mapping[str, set[str]]) -> set[str]:
    reached = set(start)
    queue = deque(start)
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    return reached
