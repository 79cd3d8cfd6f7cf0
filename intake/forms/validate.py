"""Check a page or a whole form: types, relevance, calculations, required, constraints.

Relevance is settled before anything is judged: an answer to a question that
is not asked (itself, or its page, or its repeat group not relevant) is
dropped, calculations are recomputed, and that repeats until nothing changes,
because dropping one answer can make another question irrelevant.
"""

from __future__ import annotations

import datetime as dt
from collections import ChainMap
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from intake.expressions import Expression
from intake.forms.answers import MAX_ROWS, coerce_value
from intake.forms.definition import ChoiceDef, FieldDef, FormDefinition
from intake.forms.schema import FieldType
from intake.i18n import gettext as _
from intake.i18n import ngettext

Answers = dict[str, Any]
Scope = Mapping[str, Any]


@dataclass(frozen=True)
class PageResult:
    """Typed answers of one page's asked questions, and a message per wrong answer.

    Error keys are field names; inside a repeat `group.<row>.<field>`, and the
    group's own name for too few or too many rows.
    """

    answers: Answers
    errors: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class FormResult:
    """Every kept answer (calculations included) and every error, of the whole form."""

    answers: Answers
    errors: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_page(
    form: FormDefinition,
    *,
    page: str,
    posted: Mapping[str, Any],
    answers: Mapping[str, Any],
    today: dt.date,
    language: str,
) -> PageResult:
    """Check what was posted for `page`, reading other pages' stored `answers` for context."""
    page_def = form.page(page)
    own = {f.name for f in page_def.fields if f.is_answered_by_person}
    errors = {name: _("This answer is not part of this page") for name in posted if name not in own}
    # An HTML form posts nothing for an empty multi-select or an unticked box,
    # so a question of this page that was not posted is unanswered.
    combined = {**answers, **{name: posted.get(name) for name in own}}
    run = _Run(form, today=today, language=language)
    run.check(combined)
    on_page = {f.name for f in page_def.fields}
    for key, message in run.errors.items():
        if key.partition(".")[0] in on_page:
            errors.setdefault(key, message)
    kept = {name: value for name, value in run.values.items() if name in on_page}
    return PageResult(answers=_answered(kept), errors=errors)


def validate_form(
    form: FormDefinition, *, answers: Mapping[str, Any], today: dt.date, language: str
) -> FormResult:
    """Check a whole filled form (typed, JSON or posted answers) and compute its calculations."""
    known = {f.name for f in form.top_level_fields()}
    errors = {
        name: _("This answer is not part of this form") for name in answers if name not in known
    }
    run = _Run(form, today=today, language=language)
    run.check({name: value for name, value in answers.items() if name in known})
    return FormResult(answers=_answered(run.values), errors={**errors, **run.errors})


def available_choices(
    form: FormDefinition,
    *,
    field: str,
    answers: Mapping[str, Any],
    today: dt.date,
    row: Mapping[str, Any] | None = None,
) -> tuple[ChoiceDef, ...]:
    """The options of a select that its choice_filter offers for these answers."""
    scope: Scope = ChainMap(dict(row or {}), dict(answers))
    return _offered(form.fields[field], scope, today)


def _offered(field: FieldDef, scope: Scope, today: dt.date) -> tuple[ChoiceDef, ...]:
    if field.choice_filter is None:
        return field.choices
    expression = field.choice_filter
    return tuple(
        choice
        for choice in field.choices
        if expression.is_true(
            ChainMap(
                {"choice": choice.name, **{f"choice.{k}": v for k, v in choice.attributes.items()}},
                scope,  # type: ignore[arg-type]
            ),
            today=today,
        )
    )


def _answered(values: Mapping[str, Any]) -> Answers:
    kept: Answers = {}
    for name, value in values.items():
        if value is None or value == []:
            continue
        if isinstance(value, list) and isinstance(value[0], dict):
            kept[name] = [{k: v for k, v in row.items() if v is not None} for row in value]
        else:
            kept[name] = value
    return kept


def _holds(expression: Expression | None, scope: Scope, today: dt.date, value: Any = None) -> bool:
    return expression is None or expression.is_true(scope, today=today, self_value=value)


class _Run:
    """One validation: coerced values, then settled relevance, then the checks."""

    def __init__(self, form: FormDefinition, *, today: dt.date, language: str) -> None:
        self.form = form
        self.today = today
        self.language = language if language in form.languages else form.default_language
        self.values: Answers = {}
        self.errors: dict[str, str] = {}
        self.asked: set[str] = set()  # top-level names, and group.<row>.<field> keys

    def check(self, answers: Mapping[str, Any]) -> None:
        for field in self.form.top_level_fields():
            if field.type == FieldType.REPEAT:
                self.values[field.name] = self.coerce_rows(field, answers.get(field.name))
            elif field.is_answered_by_person:
                self.values[field.name] = self.coerce(field, answers.get(field.name), field.name)
        self.settle()
        # A wrong answer to a question that is not asked is dropped, not reported.
        self.errors = {k: v for k, v in self.errors.items() if not self.unasked(k)}
        for field in self.form.top_level_fields():
            if field.name in self.asked:
                self.judge(field, self.values, field.name)

    def unasked(self, key: str) -> bool:
        """Whether `key` names a known question that is not asked."""
        group, _dot, rest = key.partition(".")
        member = rest.partition(".")[2]
        name = member or group
        return name in self.form.fields and key not in self.asked

    def coerce(self, field: FieldDef, posted: Any, key: str) -> Any:
        value, error = coerce_value(field, posted)
        if error:
            self.errors[key] = error
        return value

    def coerce_rows(self, group: FieldDef, posted: Any) -> list[dict[str, Any]]:
        if posted is None:
            return []
        if not isinstance(posted, list) or not all(isinstance(r, Mapping) for r in posted):
            self.errors[group.name] = _("These answers could not be read")
            return []
        limit = min(group.max_rows or MAX_ROWS, MAX_ROWS)
        if len(posted) > limit:
            self.errors[group.name] = ngettext(
                "Add no more than %(num)s entry", "Add no more than %(num)s entries", limit
            )
            posted = posted[:limit]
        members = {f.name: f for f in group.fields if f.is_answered_by_person}
        rows = []
        for index, cells in enumerate(posted):
            for name in cells:
                if name not in members and name not in group_names(group):
                    self.errors[f"{group.name}.{index}.{name}"] = _(
                        "This answer is not part of this form"
                    )
            key = f"{group.name}.{index}."
            rows.append(
                {
                    name: self.coerce(member, cells.get(name), key + name)
                    for name, member in members.items()
                }
            )
        return rows

    # -- relevance and calculations -----------------------------------------------------

    def settle(self) -> None:
        # Each pass can only drop answers, so this ends within len(fields) + 1 passes.
        for _pass in range(len(self.form.fields) + 2):
            self.calculate()
            if not self.drop_unasked():
                return

    def calculate(self) -> None:
        for name in self.form.calculation_order:
            field = self.form.fields[name]
            assert field.calculation is not None
            if field.repeat is None:
                self.values[name] = field.calculation.evaluate(self.values, today=self.today)
                continue
            for row in self.values.get(field.repeat) or []:
                row[name] = field.calculation.evaluate(ChainMap(row, self.values), today=self.today)

    def drop_unasked(self) -> bool:
        """Drop answers to questions not asked; True when anything was dropped."""
        changed = False
        self.asked = set()
        for page in self.form.pages:
            page_shown = _holds(page.relevant, self.values, self.today)
            for field in page.fields:
                shown = page_shown and _holds(field.relevant, self.values, self.today)
                if shown:
                    self.asked.add(field.name)
                    if field.type == FieldType.REPEAT:
                        changed |= self.drop_in_rows(field)
                elif self.values.get(field.name) not in (None, []):
                    self.values[field.name] = [] if field.type == FieldType.REPEAT else None
                    # Calculations are recomputed each pass; only answers count as change.
                    changed |= field.is_answered_by_person
        return changed

    def drop_in_rows(self, group: FieldDef) -> bool:
        changed = False
        for index, row in enumerate(self.values.get(group.name) or []):
            scope = ChainMap(row, self.values)
            for field in group.fields:
                if _holds(field.relevant, scope, self.today):
                    self.asked.add(f"{group.name}.{index}.{field.name}")
                elif row.get(field.name) is not None:
                    row[field.name] = None
                    changed |= field.is_answered_by_person
        return changed

    # -- the checks on asked questions ---------------------------------------------------

    def judge(self, field: FieldDef, scope: MutableMapping[str, Any], key: str) -> None:
        if key in self.errors or not field.is_answered_by_person:
            return
        if field.type == FieldType.REPEAT:
            self.judge_rows(field)
            return
        value = scope.get(field.name)
        if value is None:
            required = field.required or (
                field.required_when is not None
                and field.required_when.is_true(scope, today=self.today)
            )
            if required:
                self.errors[key] = self.required_message(field)
            return
        if field.type == FieldType.ACKNOWLEDGE and value is not True and field.required:
            self.errors[key] = self.required_message(field)
        elif field.type in (FieldType.SELECT_ONE, FieldType.SELECT_MULTIPLE):
            offered = {choice.name for choice in _offered(field, scope, self.today)}
            chosen = value if isinstance(value, list) else [value]
            if not set(chosen) <= offered:
                self.errors[key] = _("Choose from the options offered")
                return
        if field.constraint is not None:
            verdict = field.constraint.evaluate(scope, today=self.today, self_value=value)
            # A constraint that cannot decide (null) does not block the person.
            if verdict is False:
                self.errors[key] = self.form.text(field.constraint_message, self.language) or _(
                    "This answer is not allowed"
                )

    def judge_rows(self, group: FieldDef) -> None:
        rows = self.values.get(group.name) or []
        if group.min_rows and len(rows) < group.min_rows and group.name not in self.errors:
            self.errors[group.name] = ngettext(
                "Add at least %(num)s entry", "Add at least %(num)s entries", group.min_rows
            )
        for index, row in enumerate(rows):
            scope = ChainMap(row, self.values)
            for field in group.fields:
                key = f"{group.name}.{index}.{field.name}"
                if key in self.asked:
                    self.judge(field, scope, key)

    def required_message(self, field: FieldDef) -> str:
        if field.type == FieldType.ACKNOWLEDGE:
            return _("Please confirm this statement to continue")
        return _("This answer is required")


def group_names(group: FieldDef) -> frozenset[str]:
    """Every member name of a repeat group, calculations and notes included."""
    return frozenset(f.name for f in group.fields)
