"""A form that would break a published track is refused by every publishing path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.definitions import service
from intake.yaml_source import DefinitionProblems
from tests.admin.conftest import edit
from tests.conftest import csrf_from, login, page_token

ROOT = Path(__file__).resolve().parents[2]
AGE_YEARS = """      - name: age_years
        type: calculate
        calculation: "coalesce(age(birth_date), age)"
"""


@pytest.fixture
def shipped(db: Session) -> None:
    service.sync_files(db=db)


def without_age_years(text: str) -> str:
    """first_contact without the field young_girls' applies_when reads: sound on its own."""
    text = edit(text, AGE_YEARS, "")
    return edit(text, 'relevant: "age_years < 18"', 'relevant: "age < 18"')


def _first_contact(db: Session) -> str:
    version = service.latest(db=db, kind="form", key="first_contact")
    assert version is not None
    return version.source_text


def _numbers(db: Session) -> list[int]:
    db.expire_all()
    return [v.number for v in service.versions(db=db, kind="form", key="first_contact")]


def _problem_texts(html: str) -> list[str]:
    return [item.get_text() for item in BeautifulSoup(html, "html.parser").select("#problems li")]


def test_the_broken_form_is_sound_on_its_own(db: Session, shipped: None) -> None:
    from intake.forms.loader import load_form

    assert load_form(without_age_years(_first_contact(db)), file="first_contact.yaml")


def test_editor_publish_refuses_a_form_that_breaks_a_published_track(
    client: TestClient, db: Session, admin: User, shipped: None
) -> None:
    login(client, admin.username)
    text = without_age_years(_first_contact(db))
    token = page_token(client, "/admin/definitions/form/first_contact/edit")
    for action in ("check", "publish"):
        response = client.post(
            f"/admin/definitions/form/first_contact/{action}",
            data={"csrf_token": token, "text": text, "base": "1"},
        )
        problems = _problem_texts(response.text)
        assert any("young_girls" in p and "age_years" in p for p in problems), problems
    assert response.status_code == 422
    assert "Nothing was published" in response.text
    assert _numbers(db) == [1]


def test_upload_refuses_a_form_that_breaks_a_published_track(
    client: TestClient, db: Session, admin: User, shipped: None
) -> None:
    login(client, admin.username)
    text = without_age_years(_first_contact(db))
    token = csrf_from(client.get("/admin/definitions").text)
    response = client.post(
        "/admin/definitions/upload",
        data={"csrf_token": token, "kind": "form"},
        files={"file": ("first_contact.yaml", text.encode(), "application/x-yaml")},
    )
    assert response.status_code == 422
    problems = _problem_texts(response.text)
    assert any("young_girls" in p and "age_years" in p for p in problems), problems
    assert _numbers(db) == [1]


def test_the_service_refuses_it_too(db: Session, admin: User, shipped: None) -> None:
    text = without_age_years(_first_contact(db))
    with pytest.raises(DefinitionProblems) as refused:
        service.publish(db=db, kind="form", text=text, file="first_contact.yaml", actor=admin)
    [problem] = [p for p in refused.value.problems if "young_girls" in p.message]
    assert problem.file == "first_contact.yaml" and problem.line > 1
    assert _numbers(db) == [1]


def test_sync_refuses_it_and_accepts_the_form_and_track_changed_together(
    db: Session, shipped: None, tmp_path: Path
) -> None:
    forms, workflows = tmp_path / "forms", tmp_path / "workflows"
    shutil.copytree(ROOT / "forms", forms)
    shutil.copytree(ROOT / "workflows", workflows)
    form_file = forms / "first_contact.yaml"
    form_file.write_text(without_age_years(form_file.read_text()))
    with pytest.raises(DefinitionProblems) as refused:
        service.sync_files(db=db, forms_dir=forms, workflows_dir=workflows)
    assert any("age_years" in p.message for p in refused.value.problems)
    assert _numbers(db) == [1]

    track = workflows / "young_girls.yaml"
    track.write_text(
        edit(track.read_text(), "first_contact.age_years < 18", "first_contact.age < 18")
    )
    published = service.sync_files(db=db, forms_dir=forms, workflows_dir=workflows)
    assert {(v.kind, v.key) for v in published} == {
        ("form", "first_contact"),
        ("workflow", "young_girls"),
    }
