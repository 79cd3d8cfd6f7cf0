"""The shape of a form definition file (YAML), as Pydantic models.

These models check structure only: which keys exist and what kind of value
each holds. What needs the whole form to judge (references between fields,
translations for every declared language, expression types) is checked by
intake.forms.loader. `extra="forbid"` everywhere, so a misspelt key is an
error rather than a silently ignored setting.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Every count and length has a generous bound: a definition that parses must still
# be one a phone can fill and a person can submit (versions fit the database column).
MAX_VERSION = 2_147_483_647
MAX_LANGUAGES = 20
MAX_TEXT = 5_000
MAX_EXPRESSION = 2_000
MAX_PAGES = 50
MAX_FIELDS = 200
MAX_CHOICES = 500
MAX_CHOICE_LISTS = 100
MAX_ATTRIBUTES = 20
MAX_REPEAT_ROWS = 100

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
Expression = Annotated[str, StringConstraints(max_length=MAX_EXPRESSION)]
# Per-language text: {en: "Name", lt: "Vardas", ru: "Имя"}.
Translated = Annotated[dict[str, Text], Field(max_length=MAX_LANGUAGES)]
DefaultValue = Text | int | float | bool | Annotated[list[Text], Field(max_length=MAX_CHOICES)]


class FieldType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    SELECT_ONE = "select_one"
    SELECT_MULTIPLE = "select_multiple"
    YES_NO = "yes_no"
    PHONE = "phone"
    EMAIL = "email"
    NOTE = "note"
    ACKNOWLEDGE = "acknowledge"
    CALCULATE = "calculate"
    REPEAT = "repeat"


# Answers a person writes in their own words or that reach them (free text, a phone
# number, an e-mail address) are always sensitive: sealed at rest and shown only to the
# case's team and supervisors. An "other, please say" box names a person as surely as
# a name field does, so no definition can mark one as public.
PERSONAL_TEXT_TYPES = frozenset(
    {FieldType.TEXT, FieldType.TEXTAREA, FieldType.PHONE, FieldType.EMAIL}
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceSchema(_Strict):
    """One option of a select question."""

    name: Name = Field(description="Stored value; lowercase letters, digits and _")
    label: Translated = Field(description="Shown text, per language")
    attributes: dict[Name, Annotated[str, StringConstraints(max_length=200)]] = Field(
        default_factory=dict,
        max_length=MAX_ATTRIBUTES,
        description="Extra values a choice_filter can read as choice.<key> (cascading selects)",
    )


class FieldSchema(_Strict):
    """One question (or note, calculation or repeat group) of a page."""

    name: Name = Field(description="Unique in the whole form, including repeat groups")
    type: FieldType
    label: Translated | None = Field(default=None, description="The question, per language")
    hint: Translated | None = Field(default=None, description="Help under the question")
    required: bool | Expression = Field(
        default=False, description="true, false, or an expression that makes it required"
    )
    constraint: Expression | None = Field(
        default=None, description="Expression that must be true for an answer; '.' is the answer"
    )
    constraint_message: Translated | None = None
    relevant: Expression | None = Field(
        default=None, description="Expression: the question is asked only when it is true"
    )
    default: DefaultValue | None = None
    choices: list[ChoiceSchema] | None = Field(
        default=None, max_length=MAX_CHOICES, description="Inline options"
    )
    choice_list: Name | None = Field(default=None, description="A name from choice_lists")
    choice_filter: Expression | None = Field(
        default=None,
        description="Expression deciding which options are offered; 'choice' is the option's"
        " name and choice.<key> its attributes",
    )
    sensitive: bool = Field(
        default=False,
        description="Encrypted at rest, shown only to need (always so for free text,"
        " phone and e-mail answers)",
    )
    calculation: Expression | None = Field(
        default=None, description="Expression of a calculate field"
    )
    fields: list[FieldSchema] | None = Field(
        default=None, max_length=MAX_FIELDS, description="Fields of a repeat"
    )
    min: int | None = Field(
        default=None, ge=0, le=MAX_REPEAT_ROWS, description="Fewest rows of a repeat"
    )
    max: int | None = Field(
        default=None, ge=1, le=MAX_REPEAT_ROWS, description="Most rows of a repeat"
    )


class PageSchema(_Strict):
    """One screen of the form."""

    name: Name
    title: Translated
    relevant: Expression | None = Field(
        default=None, description="Expression: the page is shown only when it is true"
    )
    fields: list[FieldSchema] = Field(min_length=1, max_length=MAX_FIELDS)


class FormSchema(_Strict):
    """A form definition: one per file."""

    id: Name
    version: int = Field(ge=1, le=MAX_VERSION)
    languages: list[LanguageCode] = Field(
        min_length=1, max_length=MAX_LANGUAGES, description="First is the default"
    )
    title: Translated
    description: Translated | None = None
    choice_lists: dict[Name, Annotated[list[ChoiceSchema], Field(max_length=MAX_CHOICES)]] = Field(
        default_factory=dict, max_length=MAX_CHOICE_LISTS
    )
    pages: list[PageSchema] = Field(min_length=1, max_length=MAX_PAGES)
