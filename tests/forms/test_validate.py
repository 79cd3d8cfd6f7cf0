"""Page and form validation: what a person filling the form is told, and what is kept."""

from __future__ import annotations

import datetime as dt

import pytest

from intake.forms import PageResult, available_choices, validate_form, validate_page
from tests.forms.helpers import make_form, page

TODAY = dt.date(2024, 6, 15)

PERSON = page(
    """
    - {name: given_name, type: text, required: true, label: {en: Name, lt: Vardas}}
    - {name: birth_date, type: date, label: {en: Born, lt: Gimė}}
    - name: age
      type: integer
      required: true
      relevant: "birth_date = null"
      label: {en: Age, lt: Amžius}
      constraint: ". >= 0 and . <= 120"
      constraint_message: {en: Between 0 and 120, lt: Nuo 0 iki 120}
    - {name: age_years, type: calculate, calculation: "coalesce(age(birth_date), age)"}
    - {name: minor, type: calculate, calculation: "age_years < 18"}
    - name: school
      type: text
      relevant: "minor"
      required: "age_years >= 7"
      label: {en: School, lt: Mokykla}
    """,
    name="person",
)
CONSENT = page(
    """
    - {name: agree, type: acknowledge, required: true, label: {en: I agree, lt: Sutinku}}
    - {name: optional_ack, type: acknowledge, label: {en: Maybe, lt: Galbūt}}
    """,
    name="consent",
)
FAMILY = page(
    """
    - name: kids
      type: repeat
      min: 1
      max: 2
      label: {en: Kids, lt: Vaikai}
      fields:
        - {name: kid_age, type: integer, required: true, label: {en: Age, lt: Amžius}}
        - {name: kid_school, type: text, relevant: "kid_age >= 7", label: {en: S, lt: M}}
        - {name: kid_older, type: calculate, calculation: "kid_age + 1"}
    """,
    name="family",
    relevant="minor = false",
)
FORM = make_form(PERSON, CONSENT, FAMILY)


def check_page(
    name: str, posted: dict[str, object], answers: dict[str, object] | None = None
) -> PageResult:
    return validate_page(
        FORM, page=name, posted=posted, answers=answers or {}, today=TODAY, language="en"
    )


def test_required_fields_and_typed_answers() -> None:
    result = check_page("person", {"given_name": "", "age": "x"})
    assert result.errors == {
        "given_name": "This answer is required",
        "age": "Enter a whole number",
    }
    good = check_page("person", {"given_name": "Ona", "age": "30"})
    assert good.ok
    assert good.answers == {"given_name": "Ona", "age": 30, "age_years": 30, "minor": False}


def test_relevance_drops_answers_to_questions_not_asked() -> None:
    # A birth date makes `age` irrelevant: its answer (even a wrong one) is dropped.
    result = check_page("person", {"given_name": "Ona", "birth_date": "2000-06-16", "age": "x"})
    assert result.ok
    assert "age" not in result.answers
    assert result.answers["age_years"] == 23


def test_calculations_chain_and_feed_relevance_and_required_expressions() -> None:
    child = check_page("person", {"given_name": "Ona", "birth_date": "2014-01-01"})
    assert child.answers["age_years"] == 10 and child.answers["minor"] is True
    assert child.errors == {"school": "This answer is required"}
    toddler = check_page("person", {"given_name": "Ona", "birth_date": "2022-01-01"})
    assert toddler.ok  # asked, but required only from 7 years
    adult = check_page("person", {"given_name": "Ona", "age": "40", "school": "Nr. 5"})
    assert adult.ok and "school" not in adult.answers


def test_constraint_message_comes_in_the_forms_content_language() -> None:
    for language, message in (("en", "Between 0 and 120"), ("lt", "Nuo 0 iki 120")):
        result = validate_page(
            FORM,
            page="person",
            posted={"given_name": "Ona", "age": "130"},
            answers={},
            today=TODAY,
            language=language,
        )
        assert result.errors == {"age": message}
    unknown_language = validate_page(
        FORM,
        page="person",
        posted={"given_name": "A", "age": "-1"},
        answers={},
        today=TODAY,
        language="ru",
    )
    assert unknown_language.errors == {"age": "Between 0 and 120"}


def test_a_constraint_without_a_message_has_a_default_one() -> None:
    form = make_form(page("- {name: n, type: integer, constraint: '. > 1', label: {en: N, lt: N}}"))
    result = validate_form(form, answers={"n": "1"}, today=TODAY, language="en")
    assert result.errors == {"n": "This answer is not allowed"}
    assert validate_form(form, answers={}, today=TODAY, language="en").ok  # unanswered


def test_required_acknowledge_must_be_agreed() -> None:
    assert check_page("consent", {}).errors == {
        "agree": "Please confirm this statement to continue"
    }
    assert check_page("consent", {"agree": "no"}).errors == {
        "agree": "Please confirm this statement to continue"
    }
    agreed = check_page("consent", {"agree": "on"})
    assert agreed.ok and agreed.answers == {"agree": True}


def test_unexpected_field_names_are_rejected() -> None:
    result = check_page("consent", {"agree": "on", "given_name": "x", "role": "admin"})
    assert result.errors == {
        "given_name": "This answer is not part of this page",
        "role": "This answer is not part of this page",
    }
    posted_calculation = check_page("person", {"given_name": "A", "age": "3", "age_years": "99"})
    assert posted_calculation.errors == {"age_years": "This answer is not part of this page"}
    whole = validate_form(FORM, answers={"agree": True, "secret": 1}, today=TODAY, language="en")
    assert whole.errors["secret"] == "This answer is not part of this form"


def test_repeat_min_max_and_row_errors() -> None:
    adult = {"given_name": "Ona", "age": 30}
    none = check_page("family", {}, adult)
    assert none.errors == {"kids": "Add at least 1 entry"}
    too_many = check_page("family", {"kids": [{"kid_age": "1"}] * 3}, adult)
    assert too_many.errors == {"kids": "Add no more than 2 entries"}
    rows = check_page(
        "family", {"kids": [{"kid_age": "9", "kid_school": "Nr. 1"}, {"kid_age": ""}]}, adult
    )
    assert rows.errors == {"kids.1.kid_age": "This answer is required"}
    stranger = check_page("family", {"kids": [{"kid_age": "1", "hidden": "x"}]}, adult)
    assert stranger.errors == {"kids.0.hidden": "This answer is not part of this form"}


def test_relevance_and_calculations_inside_rows() -> None:
    adult = {"given_name": "Ona", "age": 30}
    result = check_page(
        "family",
        {"kids": [{"kid_age": "9", "kid_school": "Nr. 1"}, {"kid_age": "3", "kid_school": "x"}]},
        adult,
    )
    assert result.ok
    assert result.answers == {
        "kids": [
            {"kid_age": 9, "kid_school": "Nr. 1", "kid_older": 10},
            {"kid_age": 3, "kid_older": 4},
        ]
    }


def test_a_page_that_is_not_relevant_keeps_nothing_and_reports_nothing() -> None:
    child = {"given_name": "Ona", "age": 12}
    result = check_page("family", {"kids": [{"kid_age": "x"}]}, child)
    assert result.ok and result.answers == {}


def test_whole_form_validation_drops_answers_made_irrelevant_later() -> None:
    answers = {
        "given_name": "Ona",
        "age": 30,
        "agree": True,
        "kids": [{"kid_age": 4}],
    }
    assert validate_form(FORM, answers=answers, today=TODAY, language="en").ok
    # The same person is now 12: the family page is not asked and its rows go.
    younger = validate_form(FORM, answers={**answers, "age": 12}, today=TODAY, language="en")
    assert "kids" not in younger.answers
    # Only what a 12-year-old is asked is judged: the school question, not the rows.
    assert younger.errors == {"school": "This answer is required"}
    assert younger.answers["minor"] is True


def test_whole_form_accepts_its_own_json_output_again() -> None:
    answers = {
        "given_name": "Ona",
        "birth_date": "2000-01-01",
        "agree": True,
        "kids": [{"kid_age": 4}],
    }
    first = validate_form(FORM, answers=answers, today=TODAY, language="en")
    assert first.ok
    assert first.answers["birth_date"] == dt.date(2000, 1, 1)
    again = validate_form(FORM, answers=first.answers, today=TODAY, language="en")
    assert again == first


def test_dropping_one_answer_can_make_another_question_irrelevant() -> None:
    form = make_form(
        page(
            """
            - {name: a, type: yes_no, label: {en: A, lt: A}}
            - {name: b, type: yes_no, relevant: "a = true", label: {en: B, lt: B}}
            - {name: c, type: text, relevant: "b = true", label: {en: C, lt: C}}
            """
        )
    )
    result = validate_form(
        form, answers={"a": "no", "b": "yes", "c": "x"}, today=TODAY, language="en"
    )
    assert result.answers == {"a": False}


CASCADE = make_form(
    page(
        """
        - name: country
          type: select_one
          label: {en: Country, lt: Šalis}
          choices: [{name: lt, label: {en: LT, lt: LT}}, {name: ua, label: {en: UA, lt: UA}}]
        - name: city
          type: select_one
          label: {en: City, lt: Miestas}
          choice_filter: "choice.country = country"
          choices:
            - {name: vilnius, label: {en: Vilnius, lt: Vilnius}, attributes: {country: lt}}
            - {name: kaunas, label: {en: Kaunas, lt: Kaunas}, attributes: {country: lt}}
            - {name: kyiv, label: {en: Kyiv, lt: Kyjivas}, attributes: {country: ua}}
        """
    )
)


def test_choice_filter_limits_what_may_be_chosen() -> None:
    offered = available_choices(CASCADE, field="city", answers={"country": "ua"}, today=TODAY)
    assert [choice.name for choice in offered] == ["kyiv"]
    wrong = validate_form(
        CASCADE, answers={"country": "ua", "city": "vilnius"}, today=TODAY, language="en"
    )
    assert wrong.errors == {"city": "Choose from the options offered"}
    right = validate_form(
        CASCADE, answers={"country": "lt", "city": "kaunas"}, today=TODAY, language="en"
    )
    assert right.ok


def test_wrong_stored_answers_of_other_pages_do_not_block_this_page() -> None:
    result = check_page("consent", {"agree": "on"}, {"given_name": "", "age": "old"})
    assert result.ok


@pytest.mark.parametrize("rows", ["not rows", [1, 2], {"kid_age": 1}])
def test_malformed_repeat_posts_are_refused_not_crashed(rows: object) -> None:
    result = check_page("family", {"kids": rows}, {"given_name": "Ona", "age": 30})
    assert result.errors == {"kids": "These answers could not be read"}
