"""XLSForm workbooks built in the tests with openpyxl.

Two realistic forms stand in for public XLSForms of the ODK ecosystem (this
workplace has no network to fetch one with its licence): a household needs
assessment in the style of KoBoToolbox's humanitarian templates and a health
screening in the style of ODK's sample forms, both written here from scratch
(so they carry this project's licence), with the spellings such forms use.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook

Rows = Sequence[Sequence[object]]


def workbook(survey: Rows, choices: Rows = (), settings: Rows = ()) -> bytes:
    """An .xlsx with the given sheets (first row: headers)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    for row in survey:
        sheet.append(list(row))
    for title, rows in (("choices", choices), ("settings", settings)):
        if rows:
            extra = book.create_sheet(title)
            for row in rows:
                extra.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


HOUSEHOLD = workbook(
    survey=[
        [
            "type",
            "name",
            "label::English (en)",
            "label::Русский (ru)",
            "hint::English (en)",
            "hint::Русский (ru)",
            "required",
            "relevant",
            "constraint",
            "constraint_message::English (en)",
            "constraint_message::Русский (ru)",
            "appearance",
            "repeat_count",
            "calculation",
            "choice_filter",
            "default",
        ],
        [
            "begin_group",
            "respondent",
            "Respondent",
            "Респондент",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "field-list",
        ],
        [
            "text",
            "resp_name",
            "Name",
            "Имя",
            "As the person gives it",
            "Как человек его называет",
            "yes",
        ],
        [
            "integer",
            "resp_age",
            "Age",
            "Возраст",
            None,
            None,
            "yes",
            None,
            ". >= 14 and . <= 110",
            "Age between 14 and 110",
            "Возраст от 14 до 110",
        ],
        ["select_one gender", "resp_gender", "Gender", "Пол", None, None, "yes"],
        ["select_one region", "region", "Region", "Регион"],
        [
            "select_one district",
            "district",
            "District",
            "Район",
            None,
            None,
            None,
            "${region} != ''",
            None,
            None,
            None,
            "minimal",
            None,
            None,
            "region=${region}",
        ],
        ["end_group"],
        [
            "begin group",
            "household",
            "Household",
            "Домохозяйство",
            None,
            None,
            None,
            "${resp_age} >= 18",
        ],
        [
            "integer",
            "hh_size",
            "People in the household",
            "Человек в домохозяйстве",
            None,
            None,
            "yes",
            None,
            ". > 0 and . <= 30",
            "1 to 30",
            "От 1 до 30",
            None,
            None,
            None,
            None,
            "1",
        ],
        [
            "select_multiple needs",
            "needs",
            "Urgent needs",
            "Срочные нужды",
            None,
            None,
            None,
            None,
            "not(selected(., 'none') and count-selected(.) > 1)",
            "None means none",
            "«Нет» значит нет",
        ],
        [
            "text",
            "needs_other",
            "Other need",
            "Другая нужда",
            None,
            None,
            "selected(${needs}, 'other')",
            "selected(${needs}, 'other')",
        ],
        [
            "calculate",
            "adults_share",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "if(${hh_size} > 0, 1 div ${hh_size}, 0)",
        ],
        [
            "begin_repeat",
            "members",
            "Member",
            "Член семьи",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "2",
        ],
        ["text", "member_name", "Member's name", "Имя члена семьи"],
        [
            "date",
            "member_birth",
            "Date of birth",
            "Дата рождения",
            None,
            None,
            None,
            None,
            ". <= today()",
            "Not in the future",
            "Не в будущем",
        ],
        ["end_repeat"],
        ["end group"],
        [
            "note",
            "thanks",
            "Thank you.",
            "Спасибо.",
            None,
            None,
            None,
            "count(${members}) > 0 or coalesce(${hh_size}, 0) = 1",
        ],
    ],
    choices=[
        ["list_name", "name", "label::English (en)", "label::Русский (ru)", "region"],
        ["gender", "female", "Female", "Женский"],
        ["gender", "male", "Male", "Мужской"],
        ["gender", "other", "Other", "Другой"],
        ["region", "north", "North", "Север"],
        ["region", "south", "South", "Юг"],
        ["district", "n1", "North one", "Север-1", "north"],
        ["district", "s1", "South one", "Юг-1", "south"],
        ["needs", "food", "Food", "Еда"],
        ["needs", "shelter", "Shelter", "Жильё"],
        ["needs", "other", "Other", "Другое"],
        ["needs", "none", "None", "Нет"],
    ],
    settings=[
        ["form_title", "form_id", "version", "default_language"],
        ["Household needs", "household_needs", "202401", "English (en)"],
    ],
)

# Legacy spellings: 'select one from', 'bind::relevant', 'list name', 'caption', 'value',
# 'relevance', 'jr:constraintMsg', 'begin repeat' with jr:count, 'label::English' (no code).
HEALTH = workbook(
    survey=[
        [
            "type",
            "name",
            "caption::English",
            "caption::French",
            "bind::relevant",
            "bind::constraint",
            "bind::jr:constraintMsg::English",
            "bind::jr:constraintMsg::French",
            "bind::required",
            "hint::English",
            "hint::French",
            "image",
        ],
        ["start", "start"],
        [
            "text",
            "patient",
            "Patient code",
            "Code du patient",
            None,
            "string-length(.) = 6",
            "Six characters",
            "Six caractères",
            "true()",
        ],
        ["select one from yesno", "fever", "Fever?", "Fièvre ?", None, None, None, None, "yes"],
        [
            "decimal",
            "temperature",
            "Temperature",
            "Température",
            "${fever} = 'yes'",
            ". >= 35 and . <= 43",
            "35 to 43",
            "35 à 43",
            "${fever} = 'yes'",
            "In °C",
            "En °C",
        ],
        [
            "select all that apply from symptoms",
            "symptoms",
            "Symptoms",
            "Symptômes",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "cough.png",
        ],
        ["acknowledge", "consent", "I agree", "J'accepte"],
        ["geopoint", "location", "Where", "Où"],
    ],
    choices=[
        ["list name", "value", "caption::English", "caption::French"],
        ["yesno", "yes", "Yes", "Oui"],
        ["yesno", "no", "No", "Non"],
        ["symptoms", "cough", "Cough", "Toux"],
        ["symptoms", "rash", "Rash", "Éruption"],
    ],
    settings=[
        ["form_title", "form_id", "default_language"],
        ["Health screening", "health", "English"],
    ],
)
