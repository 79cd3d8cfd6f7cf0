"""What one page (or the review) of a filling shows: plain view models for the templates.

Questions, hints, options and yes/no are in the form's content language;
buttons, progress and generic messages in the interface language. No rule of
the form is decided here: values and relevance come from the engine.
"""

from __future__ import annotations

import datetime as dt
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from babel import dates, numbers

from intake import i18n
from intake.forms.answers import TEXT_LIMITS, coerce_value, without_blank_rows
from intake.forms.definition import FieldDef, FormDefinition
from intake.forms.progress import Filling
from intake.forms.schema import FieldType
from intake.forms.validate import available_choices, validate_form

RADIO_LIMIT = 6  # more options than this are a drop-down list, to keep the page short
# Names of languages in themselves: the person picks the language they read.
LANGUAGE_NAMES = {
    **i18n.LANGUAGE_NAMES,
    "uk": "Українська",
    "pl": "Polski",
    "lv": "Latviešu",
    "et": "Eesti",
    "ro": "Română",
    "vi": "Tiếng Việt",
    "de": "Deutsch",
    "fr": "Français",
}
# type: (input type, inputmode, maxlength)
_INPUTS: Mapping[FieldType, tuple[str, str | None, int | None]] = {
    FieldType.TEXT: ("text", None, TEXT_LIMITS[FieldType.TEXT]),
    FieldType.INTEGER: ("text", "numeric", 14),
    FieldType.DECIMAL: ("text", "decimal", 24),
    FieldType.DATE: ("date", None, None),
    FieldType.PHONE: ("tel", "tel", TEXT_LIMITS[FieldType.PHONE]),
    FieldType.EMAIL: ("email", "email", TEXT_LIMITS[FieldType.EMAIL]),
}


def N_(message: str) -> str:
    """Mark text for the catalogs that is shown in the content language, not the reader's."""
    return message


def in_language(language: str, message: str) -> str:
    """`message` in the content language, if the catalogs have it (else English)."""
    if language not in i18n.SUPPORTED_LOCALES:
        return message
    return i18n.translations_for(language).ugettext(message)


def language_choices(form: FormDefinition) -> list[tuple[str, str]]:
    """The form's languages with their own names."""
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in form.languages]


@dataclass
class Option:
    value: str
    label: str
    checked: bool
    id: str


@dataclass
class FieldView:
    """One question as the template draws it."""

    key: str  # the posted name: `age`, or `children.0.child_age` in a repeat
    id: str
    name: str
    type: str
    widget: str
    label: str
    hint: str
    error: str
    value: str = ""
    options: list[Option] = field(default_factory=list)
    required: bool = False
    visible: bool = True
    relevant: Any = None
    input_type: str = "text"
    inputmode: str | None = None
    maxlength: int | None = None
    rows: list[RowView] = field(default_factory=list)
    can_add: bool = False
    lang: str = ""  # a note speaks to the worker, in their language (the questions' if empty)

    @property
    def describedby(self) -> str:
        ids = [f"{self.id}-hint"] if self.hint else []
        return " ".join([*ids, f"{self.id}-error"] if self.error else ids)


@dataclass
class RowView:
    index: int
    fields: list[FieldView]


@dataclass
class PageView:
    title: str
    page_title: str
    number: int
    total: int
    fields: list[FieldView]
    summary: list[tuple[str | None, str, str]]  # (anchor, question's label, message)
    logic: dict[str, Any]
    language: str
    can_go_back: bool
    worker_language: str  # notes and messages for the worker


def _raw(value: Any) -> Any:
    """A stored JSON value as the text an input shows."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return [_raw(item) for item in value]
    return str(value)


def _anchor(key: str) -> str:
    return "f-" + key.replace(".", "-")


def page_view(
    filling: Filling,
    *,
    posted: Mapping[str, Any] | None,
    errors: Mapping[str, str],
    today: dt.date,
    add_row: str | None = None,
    remove_row: tuple[str, int] | None = None,
) -> PageView:
    """The current page with what was posted (or saved), its errors and its live logic."""
    form, language = filling.form, filling.content_language
    page = filling.page
    assert page is not None
    own = [f for f in page.fields if f.is_answered_by_person]
    if posted is None:
        fresh = not any(f.name in filling.answers for f in own)
        values = {
            f.name: _raw(filling.answers.get(f.name, f.default if fresh else None)) for f in own
        }
        for f in own:
            if f.type == FieldType.REPEAT:
                values[f.name] = list(filling.answers.get(f.name) or [])
    elif add_row or remove_row:
        values = dict(posted)  # rows as the person left them, blank ones too
    else:
        values = without_blank_rows(form, posted)  # as validated, so error keys match rows
    groups = {f.name for f in page.fields if f.type == FieldType.REPEAT}
    if add_row in groups:
        values[add_row] = [*list(values.get(add_row) or []), {}]
    if remove_row and remove_row[0] in groups and isinstance(values.get(remove_row[0]), list):
        rows = list(values[remove_row[0]])
        if 0 <= remove_row[1] < len(rows):
            del rows[remove_row[1]]
        values[remove_row[0]] = rows
    others = {k: v for k, v in filling.answers.items() if k not in {f.name for f in page.fields}}
    scope = validate_form(form, answers={**others, **values}, today=today, language=language)
    builder = _Builder(form, language, scope.answers, errors, today)
    locale = i18n.get_locale()
    worker = locale if locale in form.languages else form.default_language
    builder.worker = worker
    fields = [builder.field(f, values.get(f.name)) for f in page.fields]
    return PageView(
        title=form.text(form.title, language),
        page_title=form.text(page.title, language),
        number=filling.page_number,
        total=len(filling.asked),
        fields=[f for f in fields if f is not None],
        summary=_summary(form, language, errors),
        logic=_logic(filling, today),
        language=language,
        can_go_back=filling.page_number > 1,
        worker_language=worker,
    )


def _summary(
    form: FormDefinition, language: str, errors: Mapping[str, str]
) -> list[tuple[str | None, str, str]]:
    # The label stays in the questions' language (marked so in the page), the message not.
    items: list[tuple[str | None, str, str]] = []
    for key, message in errors.items():
        name = key.rpartition(".")[2]
        known = form.fields.get(name)
        if known is None:
            if (None, "", message) not in items:  # posted names that are no question
                items.append((None, "", message))
            continue
        items.append((f"#{_anchor(key)}", form.text(known.label, language), message))
    return items


def _logic(filling: Filling, today: dt.date) -> dict[str, Any]:
    """What the browser needs to show and hide questions: other pages' answers it reads,
    and the calculations they go through."""
    form, page = filling.form, filling.page
    assert page is not None
    members = [m for f in page.fields for m in (f, *f.fields)]
    on_page = {m.name for m in members}
    needed = {ref for m in members if m.relevant for ref in m.relevant.references}
    calculations = []
    for name in reversed(form.calculation_order):
        calc = form.fields[name]
        if name in needed and calc.repeat is None and calc.calculation is not None:
            needed |= calc.calculation.references
            calculations.append([name, calc.calculation.to_json()])
    calculations.reverse()
    computed = {name for name, _ast in calculations}
    context = {
        name: filling.settled[name]
        for name in sorted(needed - on_page - computed)
        if name in filling.settled
    }
    return {"today": today.isoformat(), "context": context, "calculations": calculations}


class _Builder:
    def __init__(
        self,
        form: FormDefinition,
        language: str,
        scope: Mapping[str, Any],
        errors: Mapping[str, str],
        today: dt.date,
    ) -> None:
        self.form, self.language, self.scope = form, language, scope
        self.errors, self.today = errors, today
        self.worker = language

    def text(self, texts: Mapping[str, str] | None) -> str:
        return self.form.text(texts, self.language)

    def field(
        self, f: FieldDef, value: Any, *, row: tuple[str, int] | None = None, scope: Any = None
    ) -> FieldView | None:
        if f.type == FieldType.CALCULATE:
            return None
        scope = self.scope if scope is None else scope
        key = f"{row[0]}.{row[1]}.{f.name}" if row else f.name
        view = FieldView(
            key=key,
            id=_anchor(key),
            name=f.name,
            type=str(f.type),
            widget=str(f.type),
            label=self.text(f.label),
            hint=self.text(f.hint),
            error=self.errors.get(key, ""),
            required=f.required,
            visible=f.relevant is None or f.relevant.is_true(scope, today=self.today),
            relevant=f.relevant.to_json() if f.relevant else None,
        )
        if f.type == FieldType.NOTE and self.worker != self.language:
            view.label, view.hint = (self.form.text(t, self.worker) for t in (f.label, f.hint))
            view.lang = self.worker
        if f.type == FieldType.REPEAT:
            self.rows(view, f, value)
            return view
        view.value = value if isinstance(value, str) else ""
        chosen = set(value) if isinstance(value, list) else {value}
        if f.type in (FieldType.SELECT_ONE, FieldType.SELECT_MULTIPLE):
            offered = available_choices(self.form, field=f.name, answers=scope, today=self.today)
            view.options = [
                Option(c.name, self.text(c.label), c.name in chosen, f"{view.id}-{i}")
                for i, c in enumerate(offered)
            ]
            if f.type == FieldType.SELECT_ONE and len(offered) > RADIO_LIMIT:
                view.widget = "select"
        elif f.type == FieldType.YES_NO:
            view.options = [
                Option(word, in_language(self.language, label), word in chosen, f"{view.id}-{word}")
                for word, label in (("yes", N_("Yes")), ("no", N_("No")))
            ]
        elif f.type == FieldType.ACKNOWLEDGE:
            view.options = [Option("yes", view.label, "yes" in chosen, f"{view.id}-yes")]
        view.input_type, view.inputmode, view.maxlength = _INPUTS.get(f.type, ("text", None, None))
        return view

    def rows(self, view: FieldView, group: FieldDef, value: Any) -> None:
        posted_rows = (
            [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []
        )
        limit = group.max_rows or 100
        if not posted_rows:
            posted_rows = [{}] * min(group.min_rows or 1, limit)
        for i, cells in enumerate(posted_rows):
            typed = {
                m.name: coerce_value(m, cells.get(m.name))[0]
                for m in group.fields
                if m.is_answered_by_person
            }
            row_scope = ChainMap(typed, dict(self.scope))
            fields = [
                self.field(m, _raw_cell(cells.get(m.name)), row=(group.name, i), scope=row_scope)
                for m in group.fields
            ]
            view.rows.append(RowView(i, [f for f in fields if f is not None]))
        view.can_add = len(posted_rows) < limit


def _raw_cell(value: Any) -> Any:
    return value if isinstance(value, str | list) else _raw(value)


# --- the review ------------------------------------------------------------------------


@dataclass
class ReviewItem:
    label: str
    value: str
    rows: list[list[tuple[str, str]]] = field(default_factory=list)


@dataclass
class ReviewSection:
    index: int
    title: str
    items: list[ReviewItem]
    error_count: int


def review_sections(
    filling: Filling, answers: Mapping[str, Any], errors: Mapping[str, str]
) -> list[ReviewSection]:
    """Every asked page with its answers in the content language, in page order."""
    form, language = filling.form, filling.content_language
    sections = []
    for index in filling.asked:
        page = form.pages[index]
        items = []
        for f in page.fields:
            if not f.is_answered_by_person or f.name not in answers:
                continue
            item = ReviewItem(form.text(f.label, language), "")
            if f.type == FieldType.REPEAT:
                item.rows = [
                    [
                        (form.text(m.label, language), display(m, row[m.name], language))
                        for m in f.fields
                        if m.is_answered_by_person and m.name in row
                    ]
                    for row in answers[f.name]
                ]
            else:
                item.value = display(f, answers[f.name], language)
            items.append(item)
        mine = {f.name for f in page.fields}
        count = sum(1 for key in errors if key.partition(".")[0] in mine)
        sections.append(ReviewSection(index, form.text(page.title, language), items, count))
    return sections


def display(f: FieldDef, value: Any, language: str) -> str:
    """An answer as a person reads it, in the content language."""
    locale = language if language in LANGUAGE_NAMES else i18n.DEFAULT_LOCALE
    if f.type == FieldType.SELECT_ONE:
        choice = f.choice(str(value))
        return _label(choice.label, language) if choice else str(value)
    if f.type == FieldType.SELECT_MULTIPLE:
        chosen = [f.choice(name) for name in value]
        return ", ".join(_label(c.label, language) for c in chosen if c is not None)
    if f.type == FieldType.YES_NO:
        return in_language(language, N_("Yes") if value else N_("No"))
    if f.type == FieldType.ACKNOWLEDGE:
        return in_language(language, N_("Confirmed")) if value else ""
    if f.type == FieldType.DATE and isinstance(value, str):
        try:
            return dates.format_date(dt.date.fromisoformat(value), format="long", locale=locale)
        except ValueError:
            return value
    if f.type in (FieldType.INTEGER, FieldType.DECIMAL) and isinstance(value, int | float):
        return numbers.format_decimal(value, locale=locale)
    return str(value)


def _label(texts: Mapping[str, str], language: str) -> str:
    return texts.get(language) or next(iter(texts.values()), "")
