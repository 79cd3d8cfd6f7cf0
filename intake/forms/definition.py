"""A compiled form: immutable, with every expression parsed and type-checked.

Built once per form version by intake.forms.loader and shared by every request
that renders or validates that version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from intake.expressions import Expression, ValueType
from intake.forms.schema import FieldType

Texts = Mapping[str, str]

VALUE_TYPES: Mapping[FieldType, ValueType] = MappingProxyType(
    {
        FieldType.TEXT: ValueType.TEXT,
        FieldType.TEXTAREA: ValueType.TEXT,
        FieldType.PHONE: ValueType.TEXT,
        FieldType.EMAIL: ValueType.TEXT,
        FieldType.SELECT_ONE: ValueType.TEXT,
        FieldType.INTEGER: ValueType.NUMBER,
        FieldType.DECIMAL: ValueType.NUMBER,
        FieldType.DATE: ValueType.DATE,
        FieldType.SELECT_MULTIPLE: ValueType.LIST,
        FieldType.YES_NO: ValueType.BOOLEAN,
        FieldType.ACKNOWLEDGE: ValueType.BOOLEAN,
        FieldType.REPEAT: ValueType.REPEAT,
    }
)
SELECT_TYPES = frozenset({FieldType.SELECT_ONE, FieldType.SELECT_MULTIPLE})
# Fields a person never posts a value for.
UNANSWERED_TYPES = frozenset({FieldType.NOTE, FieldType.CALCULATE})


@dataclass(frozen=True)
class ChoiceDef:
    name: str
    label: Texts
    attributes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class FieldDef:
    """One field; `value_type` is None only for a note (it has no value)."""

    name: str
    type: FieldType
    label: Texts | None
    hint: Texts | None
    value_type: ValueType | None
    required: bool = False
    required_when: Expression | None = None
    constraint: Expression | None = None
    constraint_message: Texts | None = None
    relevant: Expression | None = None
    default: Any = None
    choices: tuple[ChoiceDef, ...] = ()
    choice_filter: Expression | None = None
    sensitive: bool = False
    calculation: Expression | None = None
    fields: tuple[FieldDef, ...] = ()
    min_rows: int | None = None
    max_rows: int | None = None
    repeat: str | None = None  # the repeat group this field belongs to

    @property
    def is_answered_by_person(self) -> bool:
        """Whether a person posts a value for this field (not a note or calculation)."""
        return self.type not in UNANSWERED_TYPES

    def choice(self, name: str) -> ChoiceDef | None:
        """The option called `name`, if this field has one."""
        return next((choice for choice in self.choices if choice.name == name), None)


@dataclass(frozen=True)
class PageDef:
    name: str
    title: Texts
    fields: tuple[FieldDef, ...]
    relevant: Expression | None = None


@dataclass(frozen=True)
class FormDefinition:
    """A form ready to render and validate; every lookup table is read-only."""

    id: str
    version: int
    languages: tuple[str, ...]
    title: Texts
    description: Texts | None
    pages: tuple[PageDef, ...]
    fields: Mapping[str, FieldDef]  # every field by name, repeat members included
    calculation_order: tuple[str, ...]  # top-level and row calculations, dependencies first

    @property
    def default_language(self) -> str:
        return self.languages[0]

    @property
    def sensitive_fields(self) -> frozenset[str]:
        """Names of fields whose answers are encrypted at rest."""
        return frozenset(name for name, f in self.fields.items() if f.sensitive)

    def page(self, name: str) -> PageDef:
        """The page called `name`; KeyError if there is none."""
        for page in self.pages:
            if page.name == name:
                return page
        raise KeyError(name)

    def page_of(self, field_name: str) -> PageDef:
        """The page a top-level field or a repeat member is on."""
        top = self.fields[field_name].repeat or field_name
        for page in self.pages:
            if any(f.name == top for f in page.fields):
                return page
        raise KeyError(field_name)

    def top_level_fields(self) -> tuple[FieldDef, ...]:
        """Fields outside repeat groups, in page order."""
        return tuple(f for page in self.pages for f in page.fields)

    def variable_types(self) -> dict[str, ValueType]:
        """What an expression outside this form may read: top-level fields and their types."""
        return {f.name: f.value_type for f in self.top_level_fields() if f.value_type is not None}

    def choice_names(self) -> dict[str, frozenset[str]]:
        """The choices of each top-level select field, for checking other definitions."""
        return {
            f.name: frozenset(choice.name for choice in f.choices)
            for f in self.top_level_fields()
            if f.choices
        }

    def text(self, texts: Texts | None, language: str) -> str:
        """`texts` in `language`, else in the form's first language, else ''."""
        if not texts:
            return ""
        return texts.get(language) or texts.get(self.default_language, "")
