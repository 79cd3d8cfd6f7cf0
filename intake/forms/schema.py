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

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")]
# Per-language text: {en: "Name", lt: "Vardas", ru: "Имя"}.
Translated = dict[str, str]
DefaultValue = str | int | float | bool | list[str]


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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceSchema(_Strict):
    """One option of a select question."""

    name: Name = Field(description="Stored value; lowercase letters, digits and _")
    label: Translated = Field(description="Shown text, per language")
    attributes: dict[Name, str] = Field(
        default_factory=dict,
        description="Extra values a choice_filter can read as choice.<key> (cascading selects)",
    )


class FieldSchema(_Strict):
    """One question (or note, calculation or repeat group) of a page."""

    name: Name = Field(description="Unique in the whole form, including repeat groups")
    type: FieldType
    label: Translated | None = Field(default=None, description="The question, per language")
    hint: Translated | None = Field(default=None, description="Help under the question")
    required: bool | str = Field(
        default=False, description="true, false, or an expression that makes it required"
    )
    constraint: str | None = Field(
        default=None, description="Expression that must be true for an answer; '.' is the answer"
    )
    constraint_message: Translated | None = None
    relevant: str | None = Field(
        default=None, description="Expression: the question is asked only when it is true"
    )
    default: DefaultValue | None = None
    choices: list[ChoiceSchema] | None = Field(default=None, description="Inline options")
    choice_list: Name | None = Field(default=None, description="A name from choice_lists")
    choice_filter: str | None = Field(
        default=None,
        description="Expression deciding which options are offered; 'choice' is the option's"
        " name and choice.<key> its attributes",
    )
    sensitive: bool = Field(default=False, description="Encrypted at rest, shown only to need")
    calculation: str | None = Field(default=None, description="Expression of a calculate field")
    fields: list[FieldSchema] | None = Field(default=None, description="Fields of a repeat")
    min: int | None = Field(default=None, ge=0, description="Fewest rows of a repeat")
    max: int | None = Field(default=None, ge=1, le=100, description="Most rows of a repeat")


class PageSchema(_Strict):
    """One screen of the form."""

    name: Name
    title: Translated
    relevant: str | None = Field(
        default=None, description="Expression: the page is shown only when it is true"
    )
    fields: list[FieldSchema] = Field(min_length=1)


class FormSchema(_Strict):
    """A form definition: one per file."""

    id: Name
    version: int = Field(ge=1)
    languages: list[LanguageCode] = Field(min_length=1, description="First is the default")
    title: Translated
    description: Translated | None = None
    choice_lists: dict[Name, list[ChoiceSchema]] = Field(default_factory=dict)
    pages: list[PageSchema] = Field(min_length=1)
