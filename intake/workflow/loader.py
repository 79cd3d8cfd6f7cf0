"""Turn a track's YAML into a compiled, immutable Workflow, or list every problem."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence

from pydantic import ValidationError

from intake.expressions import Expression, ExpressionError, ValueType, compile_expression
from intake.expressions.choices import unknown_choices
from intake.i18n import gettext as _
from intake.workflow.checks import expand_sources, structural_problems
from intake.workflow.compiled import State, Transition, Workflow, frozen_mapping
from intake.workflow.schema import ROLES, TEAM_FUNCTIONS, TrackDefinition
from intake.workflow.services import shipped_catalogue
from intake.workflow.track_rules import rule_problems
from intake.yaml_source import (
    DefinitionProblems,
    Problem,
    Source,
    load_yaml,
    pydantic_problems,
)

FormFields = Mapping[str, Mapping[str, ValueType]]
PathParts = tuple[str | int, ...]


def parse_track(text: str, *, file: str) -> tuple[Source, TrackDefinition]:
    """Read YAML and check its shape only (enough to draw a diagram)."""
    source = load_yaml(text, file=file)
    if not isinstance(source.data, dict):
        raise DefinitionProblems([source.problem((), "a track must be a mapping of keys")])
    try:
        return source, TrackDefinition.model_validate(source.data)
    except ValidationError as error:
        raise DefinitionProblems(pydantic_problems(source, error)) from None


def load_workflow(
    text: str,
    *,
    file: str,
    forms: FormFields,
    roles: Collection[str] = ROLES,
    team_functions: Collection[str] = TEAM_FUNCTIONS,
    choices: Mapping[str, Collection[str]] | None = None,
    service_types: Collection[str] | None = None,
) -> Workflow:
    """Check and compile one track; raise DefinitionProblems listing every problem.

    `service_types` are the services it may require (default: the shipped catalogue)."""
    source, definition = parse_track(text, file=file)
    problems = structural_problems(
        source, definition, forms=forms.keys(), roles=roles, team_functions=team_functions
    )
    if service_types is None:
        service_types = shipped_catalogue().codes()
    problems += rule_problems(source, definition, service_types=service_types)
    compiler = _ExpressionCompiler(source=source, text=text, forms=forms, choices=choices or {})
    applies_when = compiler.compile(definition.applies_when, ("applies_when",))
    conditions: list[Expression | None] = []
    for index, t in enumerate(definition.transitions):
        condition = compiler.compile(t.condition, ("transitions", index, "condition"))
        conditions.append(condition)
        if condition is not None:
            problems += _unrequired_forms(source, index, condition, t.requires_forms)
    problems += compiler.problems
    if problems:
        raise DefinitionProblems(problems)
    return _build(source, text, definition, applies_when, conditions)


def check_track_set(workflows: Sequence[Workflow]) -> list[Problem]:
    """Problems only visible across tracks: ids, the one catch-all, an ambiguous order."""
    problems: list[Problem] = []

    def at(workflow: Workflow, key: str, message: str) -> Problem:
        line, column = workflow.places.get(key, (1, 1))
        return Problem(workflow.file, line, column, message)

    first_with_id: dict[str, Workflow] = {}
    for workflow in workflows:
        if workflow.id in first_with_id:
            other = first_with_id[workflow.id].file
            problems.append(
                at(
                    workflow,
                    "id",
                    _("the track id '%(id)s' is also used in %(file)s", id=workflow.id, file=other),
                )
            )
        first_with_id.setdefault(workflow.id, workflow)
    catch_alls = [w for w in workflows if w.is_catch_all]
    if workflows and not catch_alls:
        problems.append(
            at(
                workflows[0],
                "id",
                _("no track catches every other case: one must have no applies_when"),
            )
        )
    if len(catch_alls) > 1:
        names = ", ".join(w.id for w in catch_alls)
        for workflow in catch_alls:
            problems.append(
                at(
                    workflow,
                    "id",
                    _(
                        "only one track may have no applies_when; these have none: %(names)s",
                        names=names,
                    ),
                )
            )
    by_priority: dict[int, Workflow] = {}
    for workflow in workflows:
        if workflow.is_catch_all:
            continue
        if workflow.priority in by_priority:
            other, rank = by_priority[workflow.priority].id, workflow.priority
            message = _(
                "'%(other)s' has priority %(rank)s too: which applies first is unclear",
                other=other,
                rank=rank,
            )
            problems.append(at(workflow, "priority", message))
        by_priority.setdefault(workflow.priority, workflow)
    return sorted(problems)


class _ExpressionCompiler:
    """Compiles expressions against the known forms, placing errors inside the text."""

    def __init__(
        self,
        *,
        source: Source,
        text: str,
        forms: FormFields,
        choices: Mapping[str, Collection[str]],
    ) -> None:
        self.source = source
        # 'form.field' -> choice names: a condition comparing a select field with
        # text that is none of its choices could never be met.
        self.choices = choices
        self.lines = text.splitlines()
        self.variables = {
            f"{form_id}.{field}": value_type
            for form_id, fields in forms.items()
            for field, value_type in fields.items()
        }
        self.problems: list[Problem] = []

    def compile(self, text: str | None, path: PathParts) -> Expression | None:
        if text is None:
            return None
        try:
            compiled = compile_expression(text, variables=self.variables, expect=ValueType.BOOLEAN)
        except ExpressionError as error:
            line, column = self._place(path, error.column, len(text))
            self.problems.append(Problem(self.source.file, line, column, error.message))
            return None
        for unknown in unknown_choices(compiled, self.choices):
            line, column = self._place(path, unknown.column, len(text))
            self.problems.append(Problem(self.source.file, line, column, unknown.message))
        return compiled

    def _place(self, path: PathParts, column_in_text: int, length: int) -> tuple[int, int]:
        line, column = self.source.position(path)
        written = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        opening = written[column - 1 : column]
        if opening in ("|", ">"):
            return line, column  # a block scalar starts on a later line: point at its marker
        offset = 1 if opening in ("'", '"') else 0
        inside = min(max(column_in_text, 1), length + 1)
        if column + offset + inside - 1 > len(written) + 1:
            return line, column  # folded over several lines: the start is the honest place
        return line, column + offset + inside - 1


def _unrequired_forms(
    source: Source, index: int, condition: Expression, requires_forms: Sequence[str]
) -> list[Problem]:
    # A condition reading a form that may not be filled in yet would fail for
    # the wrong reason; naming the form in requires_forms says why it blocks.
    read = sorted({name.split(".", 1)[0] for name in condition.references if "." in name})
    return [
        source.problem(
            ("transitions", index, "condition"),
            _("the condition reads form '%(form)s', which requires_forms does not list", form=form),
        )
        for form in read
        if form not in requires_forms
    ]


def _stage_teams(
    sources: Sequence[str], states: Mapping[str, State]
) -> Mapping[str, tuple[str, ...]]:
    """The team each `team_required` source stage needs before a step out of it."""
    return frozen_mapping(
        {s: states[s].team for s in sources if s in states and states[s].team_required}
    )


def _build(
    source: Source,
    text: str,
    definition: TrackDefinition,
    applies_when: Expression | None,
    conditions: Sequence[Expression | None],
) -> Workflow:
    states = {
        name: State(
            name=name,
            label=frozen_mapping(state.label),
            forms=tuple(state.forms),
            sla_days=state.sla_days,
            team=tuple(state.team),
            final=state.final,
            team_required=state.team_required,
        )
        for name, state in definition.states.items()
    }
    transitions = tuple(
        Transition(
            trigger=t.trigger,
            sources=tuple(expand_sources(t, definition)),
            dest=t.dest,
            label=frozen_mapping(t.label),
            roles=frozenset(t.roles),
            requires_forms=tuple(t.requires_forms),
            condition=condition,
            requires_team=tuple(t.requires_team),
            requires_reason=t.requires_reason,
            requires_consent=tuple(t.requires_consent),
            explain=frozen_mapping(t.explain) if t.explain is not None else None,
            requires_services=frozen_mapping(t.requires_services),
            requires_stage_team=(
                frozen_mapping({})
                if t.requires_reason
                else _stage_teams(expand_sources(t, definition), states)
            ),
        )
        for t, condition in zip(definition.transitions, conditions, strict=True)
    )
    places = {key: source.position((key,)) for key in ("id", "applies_when", "priority", "on_age")}
    return Workflow(
        id=definition.id,
        version=definition.version,
        digest=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        file=source.file,
        languages=tuple(definition.languages),
        title=frozen_mapping(definition.title),
        applies_when=applies_when,
        priority=definition.priority,
        initial=definition.initial,
        states=frozen_mapping(states),
        transitions=transitions,
        definition=definition,
        places=frozen_mapping(places),
    )
