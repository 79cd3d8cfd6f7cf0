"""The forms shipped in forms/ load cleanly, and the check and schema commands work."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from intake.expressions import ValueType
from intake.forms import FormDefinition, load_form, validate_form
from intake.forms.cli import check_command, default_form_paths, schema_command
from intake.i18n import SUPPORTED_LOCALES

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
EXPECTED_FORMS = {
    "consent",
    "first_contact",
    "urgent_needs",
    "housing_placement",
    "psychological_assessment",
    "reintegration_plan",
    "safe_return_plan",
    "guardian",
    "best_interests",
    "family_assessment",
}


def shipped(form_id: str) -> FormDefinition:
    path = FORMS_DIR / f"{form_id}.yaml"
    return load_form(path.read_text(encoding="utf-8"), file=str(path))


def test_check_command_passes_on_every_shipped_form() -> None:
    out = io.StringIO()
    assert check_command([], out=out) == 0, out.getvalue()
    assert "10 form definition(s) checked, no problems" in out.getvalue()
    ids = {Path(p).stem for p in default_form_paths()}
    assert ids == EXPECTED_FORMS


@pytest.mark.parametrize("form_id", sorted(EXPECTED_FORMS))
def test_each_form_file_is_named_after_its_id_and_speaks_every_shipped_language(
    form_id: str,
) -> None:
    form = shipped(form_id)
    assert form.id == form_id
    assert form.languages == SUPPORTED_LOCALES


def test_fields_the_workflow_reads_exist_with_the_expected_types() -> None:
    first = shipped("first_contact").variable_types()
    assert first["gender"] == ValueType.TEXT
    assert first["age_years"] == ValueType.NUMBER
    assert shipped("best_interests").variable_types()["decision"] == ValueType.TEXT
    family = shipped("family_assessment").variable_types()
    assert family["recommendation"] == ValueType.TEXT


def test_first_contact_minimum_content() -> None:
    form = shipped("first_contact")
    assert {"given_name", "family_name"} <= form.sensitive_fields
    for name in ("birth_date", "age", "nationality", "languages_spoken", "immediate_needs"):
        assert name in form.fields
    assert {c.name for c in form.fields["gender"].choices} == {"female", "male", "other", "unknown"}
    needs = {c.name for c in form.fields["immediate_needs"].choices}
    assert {"safety", "medical", "food", "shelter", "interpreter", "legal"} <= needs
    assert {c.name for c in form.fields["safety_risk"].choices} == {
        "low",
        "medium",
        "high",
        "immediate",
    }


def test_first_contact_age_is_asked_only_without_a_birth_date() -> None:
    form = shipped("first_contact")
    base = {
        "contact_date": "2024-06-01",
        "where_met": "hotline",
        "given_name": "Ona",
        "gender": "female",
        "immediate_needs": ["food"],
        "safety_risk": "low",
    }
    today = dt.date(2024, 6, 15)
    estimated = validate_form(form, answers={**base, "age": "16"}, today=today, language="lt")
    assert estimated.ok, estimated.errors
    assert estimated.answers["age_years"] == 16
    born = validate_form(
        form, answers={**base, "birth_date": "2008-06-16", "age": "40"}, today=today, language="lt"
    )
    assert born.ok and "age" not in born.answers and born.answers["age_years"] == 15
    missing = validate_form(form, answers=base, today=today, language="ru")
    assert missing.errors == {"age": "This answer is required"}


def test_family_assessment_cannot_recommend_return_to_a_suspected_family() -> None:
    form = shipped("family_assessment")
    answers = {
        "assessment_date": "2024-06-01",
        "assessed_by": "our_team",
        "family_members": [{"relation": "mother"}],
        "involvement": "suspected",
        "living_conditions": "adequate",
        "girl_wishes": "…",
        "recommendation": "return_recommended",
        "support_needed": "…",
        "reasons": "…",
    }
    result = validate_form(form, answers=answers, today=dt.date(2024, 6, 15), language="lt")
    assert result.errors == {
        "recommendation": "Grįžimo negalima rekomenduoti, kol šeima gali būti įsitraukusi"
        " arba namai nesaugūs."
    }


def test_check_command_prints_placed_problems_and_fails(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        (FORMS_DIR / "guardian.yaml")
        .read_text(encoding="utf-8")
        .replace('relevant: "possible_conflict = true"', 'relevant: "possible_conflic = true"'),
        encoding="utf-8",
    )
    out = io.StringIO()
    assert check_command([str(broken)], out=out) == 1
    [line] = out.getvalue().splitlines()
    assert line.startswith(f"{broken}:")
    assert line.endswith(
        "relevant: unknown field 'possible_conflic' (did you mean 'possible_conflict'?)"
    )
    missing = io.StringIO()
    assert check_command([str(tmp_path / "absent.yaml")], out=missing) == 1
    assert "cannot read the file" in missing.getvalue()


def test_check_command_refuses_two_files_with_one_id(tmp_path: Path) -> None:
    text = (FORMS_DIR / "consent.yaml").read_text(encoding="utf-8")
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(text, encoding="utf-8")
    out = io.StringIO()
    assert check_command([str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")], out=out) == 1
    assert "the form id 'consent' is also used by" in out.getvalue()


def test_schema_command_describes_the_language() -> None:
    schema = json.loads(schema_command())
    field = schema["$defs"]["FieldSchema"]
    assert field["additionalProperties"] is False
    assert "calculation" in field["properties"] and "choice_filter" in field["properties"]
    assert set(schema["required"]) >= {"id", "version", "languages", "title", "pages"}
    assert "acknowledge" in json.dumps(schema["$defs"]["FieldType"])
