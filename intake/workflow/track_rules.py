"""Checks of the keys that speak for people: a condition's plain words, required
services and what happens when the person comes of age.

A condition written only as an expression tells a worker nothing; so every
condition carries `explain:` in every language of its track. Required services
must be ones the catalogue knows. An `on_age` rule must map every open stage to
an open stage of a track that exists.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from intake.i18n import gettext as _
from intake.workflow.compiled import Workflow
from intake.workflow.schema import TrackDefinition
from intake.yaml_source import Problem, Source


def rule_problems(
    source: Source, definition: TrackDefinition, *, service_types: Collection[str]
) -> list[Problem]:
    """Every problem of explanations, required services and the age rule within one track."""
    problems: list[Problem] = []
    problems += _explain_problems(source, definition)
    problems += _service_problems(source, definition, service_types)
    problems += _age_problems(source, definition)
    return problems


def _explain_problems(source: Source, definition: TrackDefinition) -> list[Problem]:
    problems: list[Problem] = []
    for index, t in enumerate(definition.transitions):
        at: tuple[str | int, ...] = ("transitions", index)
        if t.condition is not None and t.explain is None:
            problems.append(
                source.problem(
                    (*at, "condition"),
                    _(
                        "a condition needs 'explain:' saying in plain words, in every "
                        "language of the track, what it asks"
                    ),
                )
            )
        if t.explain is None:
            continue
        if t.condition is None:
            problems.append(
                source.problem((*at, "explain"), _("'explain:' explains a condition: add one"))
            )
        problems += _language_problems(source, (*at, "explain"), t.explain, definition.languages)
    return problems


def _language_problems(
    source: Source,
    path: tuple[str | int, ...],
    labels: Mapping[str, str],
    languages: Sequence[str],
) -> list[Problem]:
    problems = [
        source.problem(path, _("the '%(language)s' translation is missing", language=language))
        for language in languages
        if language not in labels
    ]
    problems += [
        source.problem(
            (*path, language),
            _("'%(language)s' is not one of the track's languages", language=language),
        )
        for language in labels
        if language not in languages
    ]
    return problems


def _service_problems(
    source: Source, definition: TrackDefinition, service_types: Collection[str]
) -> list[Problem]:
    return [
        source.problem(
            ("transitions", index, "requires_services", code),
            _("unknown service '%(name)s'", name=code),
        )
        for index, t in enumerate(definition.transitions)
        for code in t.requires_services
        if code not in service_types
    ]


def _age_problems(source: Source, definition: TrackDefinition) -> list[Problem]:
    rule = definition.on_age
    if rule is None:
        return []
    problems: list[Problem] = []
    at: tuple[str | int, ...] = ("on_age", "go_to")
    if rule.go_to.track == definition.id:
        problems.append(
            source.problem((*at, "track"), _("a case cannot come of age into its own track"))
        )
    mapped = rule.go_to.state_map
    for name in mapped:
        state = definition.states.get(name)
        if state is None:
            problems.append(
                source.problem((*at, "state_map", name), _("unknown state '%(name)s'", name=name))
            )
        elif state.final:
            problems.append(
                source.problem(
                    (*at, "state_map", name),
                    _("'%(name)s' is final: a closed case does not move", name=name),
                )
            )
    for name, state in definition.states.items():
        if not state.final and name not in mapped:
            problems.append(
                source.problem(
                    (*at, "state_map"),
                    _("'%(name)s' has no stage to move to when she comes of age", name=name),
                )
            )
    return problems


def age_set_problems(
    subjects: Sequence[Workflow], every: Sequence[Workflow] | None = None
) -> list[Problem]:
    """The on_age rules of `subjects` must name a track of `every` (default: the subjects)
    and open stages of it.

    Only the track that declares the rule answers for it: publishing a new version of
    the target track is not refused for it; moving a case then says what is missing."""
    by_id = {workflow.id: workflow for workflow in (every or subjects)}
    problems: list[Problem] = []
    for workflow in subjects:
        rule = workflow.definition.on_age
        if rule is None:
            continue
        line, column = workflow.places.get("on_age", (1, 1))
        target = by_id.get(rule.go_to.track)
        if target is None:
            message = _("unknown track '%(name)s'", name=rule.go_to.track)
            problems.append(Problem(workflow.file, line, column, message))
            continue
        for name in sorted(set(rule.go_to.state_map.values())):
            state = target.states.get(name)
            if state is None or state.final:
                message = _(
                    "'%(name)s' is not an open stage of track '%(track)s'",
                    name=name,
                    track=target.id,
                )
                problems.append(Problem(workflow.file, line, column, message))
    return problems
