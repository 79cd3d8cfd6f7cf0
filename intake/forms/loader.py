"""Read a form definition (YAML) into a compiled FormDefinition, or list every problem.

Structure is checked by the Pydantic models in intake.forms.schema; this module
checks what needs the whole form: unique names, translations for every
declared language, keys that make sense for a field's type, choice lists,
and every expression against the fields it may read. Each problem carries the
file, line and column an administrator has to look at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from intake.expressions import Expression, ExpressionError, ValueType, compile_expression
from intake.expressions.choices import unknown_choices
from intake.expressions.nodes import references_of
from intake.expressions.parser import parse
from intake.forms import problems
from intake.forms.answers import coerce_value
from intake.forms.definition import (
    SELECT_TYPES,
    VALUE_TYPES,
    ChoiceDef,
    FieldDef,
    FormDefinition,
    PageDef,
    Texts,
)
from intake.forms.schema import (
    PERSONAL_TEXT_TYPES,
    ChoiceSchema,
    FieldSchema,
    FieldType,
    FormSchema,
)
from intake.i18n import gettext as _
from intake.yaml_source import (
    DefinitionProblems,
    Path,
    Problem,
    Source,
    load_yaml,
    pydantic_problems,
)

# Keys each field type may use besides name, type, label, hint and relevant.
_ANSWERED_KEYS = frozenset({"required", "constraint", "constraint_message", "default", "sensitive"})
_EXTRA_KEYS: Mapping[FieldType, frozenset[str]] = {
    **{t: _ANSWERED_KEYS for t in FieldType},
    FieldType.SELECT_ONE: _ANSWERED_KEYS | {"choices", "choice_list", "choice_filter"},
    FieldType.SELECT_MULTIPLE: _ANSWERED_KEYS | {"choices", "choice_list", "choice_filter"},
    FieldType.ACKNOWLEDGE: frozenset({"required", "sensitive"}),
    FieldType.NOTE: frozenset(),
    FieldType.CALCULATE: frozenset({"calculation", "sensitive"}),
    FieldType.REPEAT: frozenset({"fields", "min", "max"}),
}
_ALWAYS_KEYS = frozenset({"name", "type", "label", "hint", "relevant"})
# Inside a choice_filter the option being considered is `choice`.
RESERVED_NAMES = frozenset({"choice"})


def load_form(text: str, *, file: str) -> FormDefinition:
    """Compile a form definition; raise DefinitionProblems listing every problem found."""
    source = load_yaml(text, file=file)
    try:
        schema = FormSchema.model_validate(source.data)
    except ValidationError as error:
        raise DefinitionProblems(pydantic_problems(source, error)) from None
    builder = _Builder(source, schema, text)
    form = builder.build()
    if builder.problems:
        raise DefinitionProblems(builder.problems)
    return form


class _Builder:
    def __init__(self, source: Source, schema: FormSchema, text: str) -> None:
        self.source = source
        self.schema = schema
        self.lines = text.splitlines()
        self.problems: list[Problem] = []
        self.compiled: list[tuple[Expression, Path]] = []
        self.languages = tuple(schema.languages)
        self.top_types: dict[str, ValueType] = {}
        self.row_types: dict[str, dict[str, ValueType]] = {}  # repeat -> its own fields
        self.places: dict[str, Path] = {}  # field name -> path of its definition
        self.fields: dict[str, FieldDef] = {}
        self.choice_lists: dict[str, tuple[ChoiceDef, ...]] = {}

    def problem(self, path: Path, message: str) -> None:
        self.problems.append(self.source.problem(path, message))

    def build(self) -> FormDefinition:
        schema = self.schema
        if len(set(self.languages)) != len(self.languages):
            self.problem(("languages",), _("a language is listed twice"))
        self.choice_lists = {
            name: self.choice_defs(listed, ("choice_lists", name))
            for name, listed in schema.choice_lists.items()
        }
        self.register_names()
        order = self.calculation_types()
        pages = []
        page_names: set[str] = set()
        for index, page in enumerate(schema.pages):
            path: Path = ("pages", index)
            if page.name in page_names:
                self.problem((*path, "name"), problems.page_name_twice(page.name))
            page_names.add(page.name)
            fields = tuple(
                self.field(f, (*path, "fields", i), repeat=None) for i, f in enumerate(page.fields)
            )
            relevant = self.expression(
                page.relevant, (*path, "relevant"), self.top_types, ValueType.BOOLEAN
            )
            pages.append(
                PageDef(
                    page.name, self.required_texts(page.title, (*path, "title")), fields, relevant
                )
            )
        self.check_choice_literals()
        return FormDefinition(
            id=schema.id,
            version=schema.version,
            languages=self.languages,
            title=self.required_texts(schema.title, ("title",)),
            description=self.texts(schema.description, ("description",)),
            pages=tuple(pages),
            fields=MappingProxyType(dict(self.fields)),
            calculation_order=order,
        )

    # -- names and types -------------------------------------------------------------

    def register_names(self) -> None:
        for p, page in enumerate(self.schema.pages):
            for i, raw in enumerate(page.fields):
                path: Path = ("pages", p, "fields", i)
                self.register(raw, path, self.top_types)
                if raw.type == FieldType.REPEAT:
                    row = self.row_types.setdefault(raw.name, {})
                    for c, child in enumerate(raw.fields or ()):
                        self.register(child, (*path, "fields", c), row)

    def register(self, raw: FieldSchema, path: Path, scope: dict[str, ValueType]) -> None:
        if raw.name in self.places:
            line, _column = self.source.position(self.places[raw.name])
            self.problem((*path, "name"), problems.field_name_used(raw.name, line))
            return
        if raw.name in RESERVED_NAMES:
            self.problem((*path, "name"), problems.reserved(raw.name))
        self.places[raw.name] = path
        if raw.type in VALUE_TYPES:
            scope[raw.name] = VALUE_TYPES[raw.type]

    def scope_of(self, repeat: str | None) -> dict[str, ValueType]:
        return {**self.top_types, **self.row_types.get(repeat or "", {})}

    def calculation_types(self) -> tuple[str, ...]:
        """Type every calculate field, dependencies first; return that order."""
        calculations: dict[str, tuple[str, Path, str | None]] = {}
        for p, page in enumerate(self.schema.pages):
            for i, raw in enumerate(page.fields):
                path: Path = ("pages", p, "fields", i)
                self.collect_calculation(raw, path, None, calculations)
                for c, child in enumerate(raw.fields or ()):
                    self.collect_calculation(child, (*path, "fields", c), raw.name, calculations)
        depends: dict[str, set[str]] = {}
        for name, (source, _path, _repeat) in calculations.items():
            try:
                depends[name] = set(references_of(parse(source))) & calculations.keys()
            except ExpressionError:
                depends[name] = set()  # reported when it is compiled below
        order: list[str] = []
        remaining = dict(depends)
        while remaining:
            ready = sorted(name for name, needs in remaining.items() if needs <= set(order))
            if not ready:
                for name in sorted(remaining):
                    self.problem(
                        (*calculations[name][1], "calculation"),
                        problems.depends_on_itself(
                            name, ", ".join(sorted(remaining[name] & remaining.keys()))
                        ),
                    )
                break
            for name in ready:
                source, path, repeat = calculations[name]
                scope = self.top_types if repeat is None else self.row_types[repeat]
                compiled = self.expression(source, (*path, "calculation"), self.scope_of(repeat))
                scope[name] = compiled.result_type if compiled else ValueType.ANY
                order.append(name)
                del remaining[name]
        return tuple(order)

    @staticmethod
    def collect_calculation(
        raw: FieldSchema, path: Path, repeat: str | None, found: dict[str, Any]
    ) -> None:
        if raw.type == FieldType.CALCULATE and raw.calculation is not None:
            found.setdefault(raw.name, (raw.calculation, path, repeat))

    # -- fields ----------------------------------------------------------------------

    def field(self, raw: FieldSchema, path: Path, *, repeat: str | None) -> FieldDef:
        self.check_keys(raw, path, nested=repeat is not None)
        scope = self.scope_of(repeat)
        value_type = scope.get(raw.name) if raw.type != FieldType.NOTE else None
        relevant = self.expression(raw.relevant, (*path, "relevant"), scope, ValueType.BOOLEAN)
        if relevant is not None and raw.name in relevant.references:
            self.problem((*path, "relevant"), _("a field's relevant cannot read the field itself"))
        required_when = None
        if isinstance(raw.required, str):
            required_when = self.expression(
                raw.required, (*path, "required"), scope, ValueType.BOOLEAN
            )
        constraint = None
        if raw.constraint is not None and value_type is not None:
            constraint = self.expression(
                raw.constraint, (*path, "constraint"), {**scope, ".": value_type}, ValueType.BOOLEAN
            )
        choices = self.choices_of(raw, path)
        fields: tuple[FieldDef, ...] = ()
        if raw.type == FieldType.REPEAT:
            fields = tuple(
                self.field(child, (*path, "fields", i), repeat=raw.name)
                for i, child in enumerate(raw.fields or ())
            )
        built = FieldDef(
            name=raw.name,
            type=raw.type,
            label=self.texts(raw.label, (*path, "label")),
            hint=self.texts(raw.hint, (*path, "hint")),
            value_type=value_type,
            required=raw.required is True,
            required_when=required_when,
            constraint=constraint,
            constraint_message=self.texts(raw.constraint_message, (*path, "constraint_message")),
            relevant=relevant,
            choices=choices,
            choice_filter=self.choice_filter(raw, path, scope, choices),
            sensitive=raw.sensitive or raw.type in PERSONAL_TEXT_TYPES,
            calculation=self.calculation_of(raw, scope),
            fields=fields,
            min_rows=raw.min,
            max_rows=raw.max,
            repeat=repeat,
        )
        built = self.with_default(built, raw, path)
        self.fields.setdefault(raw.name, built)
        return built

    def check_keys(self, raw: FieldSchema, path: Path, *, nested: bool) -> None:
        allowed = _ALWAYS_KEYS | _EXTRA_KEYS[raw.type]
        for key in sorted(raw.model_fields_set - allowed):
            self.problem((*path, key), problems.key_does_not_apply(key, raw.type))
        kind = raw.type
        if kind != FieldType.CALCULATE and raw.label is None:
            self.problem(path, problems.needs_label(kind, raw.name))
        if kind == FieldType.CALCULATE and raw.calculation is None:
            self.problem(path, problems.needs_calculation(raw.name))
        if kind == FieldType.REPEAT:
            if nested:
                self.problem((*path, "type"), _("a repeat group cannot hold another repeat group"))
            if not raw.fields:
                self.problem(path, _("the repeat group '%(name)s' needs fields", name=raw.name))
            if raw.min is not None and raw.max is not None and raw.min > raw.max:
                self.problem((*path, "min"), _("min is larger than max"))
        if kind in SELECT_TYPES and (raw.choices is None) == (raw.choice_list is None):
            self.problem(path, problems.needs_choices(kind, raw.name))
        if raw.constraint_message is not None and raw.constraint is None:
            self.problem((*path, "constraint_message"), _("constraint_message without constraint"))

    def choices_of(self, raw: FieldSchema, path: Path) -> tuple[ChoiceDef, ...]:
        if raw.type not in SELECT_TYPES:
            return ()
        if raw.choice_list is not None:
            if raw.choice_list not in self.schema.choice_lists:
                self.problem((*path, "choice_list"), problems.no_choice_list(raw.choice_list))
                return ()
            return self.choice_lists[raw.choice_list]
        return self.choice_defs(raw.choices or [], (*path, "choices"))

    def choice_defs(self, listed: list[ChoiceSchema], path: Path) -> tuple[ChoiceDef, ...]:
        seen: set[str] = set()
        built = []
        for index, choice in enumerate(listed):
            if choice.name in seen:
                self.problem((*path, index, "name"), problems.choice_name_twice(choice.name))
            seen.add(choice.name)
            label = self.required_texts(choice.label, (*path, index, "label"))
            built.append(ChoiceDef(choice.name, label, MappingProxyType(dict(choice.attributes))))
        return tuple(built)

    def choice_filter(
        self,
        raw: FieldSchema,
        path: Path,
        scope: dict[str, ValueType],
        choices: tuple[ChoiceDef, ...],
    ) -> Expression | None:
        if raw.choice_filter is None:
            return None
        variables = {**scope, "choice": ValueType.TEXT}
        for choice in choices:
            variables.update({f"choice.{key}": ValueType.TEXT for key in choice.attributes})
        return self.expression(
            raw.choice_filter, (*path, "choice_filter"), variables, ValueType.BOOLEAN
        )

    def calculation_of(self, raw: FieldSchema, scope: dict[str, ValueType]) -> Expression | None:
        if raw.type != FieldType.CALCULATE or raw.calculation is None:
            return None
        try:
            # Already compiled (and any problem reported) by calculation_types().
            return compile_expression(raw.calculation, variables=scope)
        except ExpressionError:
            return None

    def with_default(self, built: FieldDef, raw: FieldSchema, path: Path) -> FieldDef:
        if raw.default is None or not built.is_answered_by_person:
            return built
        posted: str | list[str]
        if isinstance(raw.default, bool):
            posted = "yes" if raw.default else "no"
        elif isinstance(raw.default, list):
            posted = raw.default
        else:
            posted = str(raw.default)
        value, error = coerce_value(built, posted)
        if error:
            self.problem((*path, "default"), problems.default_does_not_fit(error))
            return built
        return replace(built, default=value)

    # -- text and expressions --------------------------------------------------------

    def required_texts(self, value: dict[str, str], path: Path) -> Texts:
        return self.texts(value, path) or MappingProxyType({})

    def texts(self, value: dict[str, str] | None, path: Path) -> Texts | None:
        if value is None:
            return None
        what = ".".join(str(part) for part in path if not isinstance(part, int))
        for language in self.languages:
            if not (value.get(language) or "").strip():
                self.problem(path, problems.no_translation(what, language))
        for language in value:
            if language not in self.languages:
                self.problem((*path, language), problems.not_a_form_language(language))
        return MappingProxyType(dict(value))

    def expression(
        self,
        source: str | None,
        path: Path,
        variables: Mapping[str, ValueType],
        expect: ValueType | None = None,
    ) -> Expression | None:
        if source is None:
            return None
        try:
            compiled = compile_expression(source, variables=variables, expect=expect)
        except ExpressionError as error:
            self.expression_problem(path, error.column, error.message)
            return None
        self.compiled.append((compiled, path))
        return compiled

    def expression_problem(self, path: Path, column_in_text: int, message: str) -> None:
        line, column = self.source.position(path)
        column += column_in_text - 1 + self.quote_width(line, column)
        self.problems.append(Problem(self.source.file, line, column, f"{path[-1]}: {message}"))

    def check_choice_literals(self) -> None:
        """Refuse text compared with a select field that is none of its choices."""
        choices = {
            name: {choice.name for choice in f.choices}
            for name, f in self.fields.items()
            if f.choices
        }
        for compiled, path in self.compiled:
            for unknown in unknown_choices(compiled, choices):
                self.expression_problem(path, unknown.column, unknown.message)

    def quote_width(self, line: int, column: int) -> int:
        """1 when the value at line:column is quoted, so columns land inside the quotes."""
        if 0 < line <= len(self.lines):
            text = self.lines[line - 1]
            if 0 < column <= len(text) and text[column - 1] in "'\"":
                return 1
        return 0
