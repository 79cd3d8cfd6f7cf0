"""XLSForm import: every mapped column, legacy spellings, refusals with their cell."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from intake.definitions import service as definitions
from intake.forms.cli import import_xlsform_command
from intake.forms.loader import load_form
from intake.forms.xlsform import import_xlsform
from tests.forms.xlsform_books import HEALTH, HOUSEHOLD, workbook

HEAD = ["type", "name", "label", "relevant", "constraint", "calculation"]


def _imported(data: bytes, **kwargs: str):
    result = import_xlsform(data, file="book.xlsx", **kwargs)
    assert result.refusals == [], result.report()
    assert result.problems == [], result.report()
    return result, load_form(result.yaml_text, file="imported.yaml")


def test_household_maps_every_column() -> None:
    result, form = _imported(HOUSEHOLD)
    assert (form.id, form.version, form.languages) == ("household_needs", 202401, ("en", "ru"))
    assert [p.name for p in form.pages] == ["respondent", "household", "page_3"]
    household = form.pages[1]
    assert household.relevant is not None and household.relevant.source == "resp_age >= 18"
    fields = form.fields
    assert fields["resp_name"].required and fields["resp_name"].hint["ru"]
    assert fields["resp_age"].constraint.source == ". >= 14 and . <= 110"
    assert fields["resp_age"].constraint_message["ru"] == "Возраст от 14 до 110"
    assert fields["district"].choice_filter.source == "choice.region = region"
    assert fields["district"].relevant.source == "region != null"
    assert fields["hh_size"].default == 1
    assert fields["needs_other"].required_when.source == "selected(needs, 'other')"
    assert "count(.) > 1" in fields["needs"].constraint.source
    assert fields["adults_share"].calculation.source == "if(hh_size > 0, 1 / hh_size, 0)"
    members = fields["members"]
    assert (members.min_rows, members.max_rows) == (2, 2)
    assert [f.name for f in members.fields] == ["member_name", "member_birth"]
    assert fields["thanks"].relevant.source == "count(members) > 0 or coalesce(hh_size, 0) = 1"
    assert result.questions == 11 and result.choice_lists == 4
    assert any("survey!L7" in str(w) and "minimal" in str(w) for w in result.warnings)


def test_legacy_spellings_of_the_health_form() -> None:
    result, form = _imported(HEALTH)
    assert form.languages == ("en", "fr")  # 'English' and 'French' named, coded by Babel
    fields = form.fields
    assert fields["fever"].choices[0].label == {"en": "Yes", "fr": "Oui"}
    assert fields["temperature"].relevant.source == "fever = 'yes'"
    assert fields["temperature"].constraint_message["fr"] == "35 à 43"
    assert fields["symptoms"].type == "select_multiple"
    assert fields["consent"].type == "acknowledge"
    assert "location" not in fields and "start" not in fields
    cells = {w.cell for w in result.warnings}
    assert {"survey!A2", "survey!A8", "survey!L6"} <= cells


def test_imported_forms_pass_the_definition_checks(db) -> None:
    for data in (HOUSEHOLD, HEALTH):
        result = import_xlsform(data, file="book.xlsx")
        checked = definitions.check(db=db, kind="form", text=result.yaml_text, file="x.yaml")
        assert checked.key == result.form_id


@pytest.mark.parametrize(
    ("expression", "message", "suggests"),
    [
        ("jr:choice-name(${a}, '${a}')", "the function jr:choice-name is not supported", "name"),
        ("concat(${a}, 'x') = 'y'", "the function concat is not supported", "label"),
        ("/data/a = 'x'", "paths", "${name}"),
        ("${a} mod 2 = 0", "mod", "bounds"),
        ("regex(., '[0-9]+')", "regex is not supported", "string-length"),
        ("${missing} = 1", "not a question", None),
        ("${where} = 1", "not imported", "remove"),
    ],
)
def test_untranslatable_expressions_are_refused_with_their_cell(
    expression: str, message: str, suggests: str | None
) -> None:
    data = workbook(
        [
            HEAD,
            ["text", "a", "A"],
            ["geopoint", "where", "Where"],
            ["text", "b", "B", None, None],
            ["text", "c", "C", None, expression],
        ]
    )
    result = import_xlsform(data, file="book.xlsx")
    refused = [n for n in result.refusals if n.cell == "survey!E5"]
    assert refused and message in refused[0].message, result.report()
    if suggests:
        assert suggests in (refused[0].suggestion or "")
    assert not result.ok
    assert str(refused[0]).startswith("survey!E5: ")


def test_choice_names_renamed_in_expressions_and_defaults() -> None:
    data = workbook(
        [
            ["type", "name", "label", "relevant", "default"],
            ["select_one num", "n", "N", None, "1"],
            ["text", "t", "T", "${n} = '1' or selected(${n}, '2')"],
        ],
        choices=[["list_name", "name", "label"], ["num", "1", "One"], ["num", "2", "Two"]],
    )
    result, form = _imported(data)
    assert [c.name for c in form.fields["n"].choices] == ["c_1", "c_2"]
    assert form.fields["n"].default == "c_1"
    assert form.fields["t"].relevant.source == "n = 'c_1' or (n = 'c_2')"
    assert any("stored as c_1" in w.message for w in result.warnings)


def test_structure_errors_are_refused() -> None:
    data = workbook(
        [
            ["type", "name", "label"],
            ["begin repeat", "outer", "Outer"],
            ["begin repeat", "inner", "Inner"],
            ["text", "x", "X"],
            ["end repeat"],
            ["end repeat"],
            ["end group"],
            ["begin group", "open", "Open"],
            ["text", "y", "Y"],
        ]
    )
    result = import_xlsform(data, file="book.xlsx")
    messages = {n.cell: n.message for n in result.refusals}
    assert "repeat inside a repeat" in messages["survey!A3"]
    assert "end without a begin" in messages["survey!A7"]
    assert "never ended" in messages["survey!A8"]


def test_nested_group_is_flattened_with_its_condition() -> None:
    data = workbook(
        [
            ["type", "name", "label", "relevant"],
            ["begin group", "p", "Page"],
            ["integer", "age", "Age"],
            ["begin group", "adult", "Adult part", "${age} >= 18"],
            ["text", "job", "Job", "${age} < 70"],
            ["end group"],
            ["end group"],
        ]
    )
    result, form = _imported(data)
    assert form.fields["job"].relevant.source == "(age >= 18) and (age < 70)"
    assert form.fields["adult"].type == "note"
    assert any("flattened" in w.message for w in result.warnings)


def test_language_without_a_code_is_refused_with_its_header() -> None:
    data = workbook([["type", "name", "label::Klingonish"], ["text", "a", "A"]])
    result = import_xlsform(data, file="book.xlsx")
    assert [n.cell for n in result.refusals] == ["survey!C1"]


def test_cli_writes_the_form_and_refuses_to_overwrite(tmp_path: Path) -> None:
    source = tmp_path / "household.xlsx"
    source.write_bytes(HOUSEHOLD)
    target = tmp_path / "out.yaml"
    out = io.StringIO()
    assert import_xlsform_command(str(source), form_id="needs", output=str(target), out=out) == 0
    assert "11 questions, 4 choice lists, languages: en, ru" in out.getvalue()
    assert load_form(target.read_text(encoding="utf-8"), file="out.yaml").id == "needs"
    again = io.StringIO()
    assert import_xlsform_command(str(source), form_id=None, output=str(target), out=again) == 1
    assert "exists" in again.getvalue()


def test_cli_writes_nothing_when_refused(tmp_path: Path) -> None:
    source = tmp_path / "bad.xlsx"
    source.write_bytes(workbook([HEAD, ["text", "a", "A", "jr:choice-name(1, 2)"]]))
    out = io.StringIO()
    target = tmp_path / "bad.yaml"
    assert import_xlsform_command(str(source), form_id=None, output=str(target), out=out) == 1
    assert "survey!D2: the function jr:choice-name is not supported" in out.getvalue()
    assert not target.exists()
