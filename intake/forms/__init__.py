"""The form engine: definitions (YAML) compiled into FormDefinition, and answers checked.

load_form(text, file=...) -> FormDefinition          intake.forms.loader
validate_page(form, page=..., posted=..., answers=..., today=..., language=...)
validate_form(form, answers=..., today=..., language=...)
coerce_value(field, posted), answers_to_json(answers), posted_from_pairs(pairs)
"""

from intake.forms.answers import answers_to_json, coerce_value, posted_from_pairs
from intake.forms.definition import ChoiceDef, FieldDef, FormDefinition, PageDef
from intake.forms.loader import load_form
from intake.forms.schema import FieldType
from intake.forms.validate import (
    FormResult,
    PageResult,
    available_choices,
    validate_form,
    validate_page,
)

__all__ = [
    "ChoiceDef",
    "FieldDef",
    "FieldType",
    "FormDefinition",
    "FormResult",
    "PageDef",
    "PageResult",
    "answers_to_json",
    "available_choices",
    "coerce_value",
    "load_form",
    "posted_from_pairs",
    "validate_form",
    "validate_page",
]
