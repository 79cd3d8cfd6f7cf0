"""The XLSForm import on the definitions page: YAML and problems shown, publish through checks."""

from __future__ import annotations

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.definitions import service as definitions
from tests.conftest import csrf_from, login
from tests.forms.xlsform_books import HEALTH, workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _import(client: TestClient, data: bytes):
    token = csrf_from(client.get("/admin/definitions").text)
    return client.post(
        "/admin/definitions/xlsform",
        data={"csrf_token": token},
        files={"file": ("health.xlsx", data, XLSX)},
    )


def test_import_shows_yaml_and_warnings_then_publishes(
    client: TestClient, db: Session, admin: User
) -> None:
    login(client, admin.username)
    html = _import(client, HEALTH).text
    page = BeautifulSoup(html, "html.parser")
    text = page.select_one("#definition-text").get_text().lstrip("\n")
    assert "id: health" in text
    warnings = page.select_one("#import-warnings").get_text()
    assert "survey!A8" in warnings and "geopoint" in warnings
    assert definitions.latest(db=db, kind="form", key="health") is None  # nothing published yet
    token = csrf_from(html)
    response = client.post(
        "/admin/definitions/xlsform/publish", data={"csrf_token": token, "text": text}
    )
    assert response.status_code == 303, response.text
    db.expire_all()
    stored = definitions.latest(db=db, kind="form", key="health")
    assert stored is not None and stored.source_text == text


def test_refusals_are_shown_and_the_yaml_cannot_be_published(
    client: TestClient, db: Session, admin: User
) -> None:
    login(client, admin.username)
    data = workbook(
        [["type", "name", "label", "relevant"], ["text", "a", "A", "jr:choice-name(1, 2)"]]
    )
    html = _import(client, data).text
    page = BeautifulSoup(html, "html.parser")
    refusals = page.select_one("#import-refusals").get_text()
    assert "survey!D2" in refusals and "jr:choice-name" in refusals
    text = page.select_one("#definition-text").get_text().lstrip("\n")
    token = csrf_from(html)
    # The refused relevant stays in the YAML, marked: publishing refuses it until rewritten.
    assert "untranslated: jr:choice-name(1, 2)" in text
    response = client.post(
        "/admin/definitions/xlsform/publish", data={"csrf_token": token, "text": text}
    )
    assert response.status_code == 422
    assert definitions.latest(db=db, kind="form", key="health") is None
    fixed = text.replace("'untranslated: jr:choice-name(1, 2)'", "a != null").replace(
        "untranslated: jr:choice-name(1, 2)", "a != null"
    )
    response = client.post(
        "/admin/definitions/xlsform/publish", data={"csrf_token": token, "text": fixed}
    )
    assert response.status_code == 422  # a field's relevant cannot read itself: still checked


def test_hostile_file_is_refused_on_the_page(client: TestClient, admin: User) -> None:
    login(client, admin.username)
    response = _import(client, b"not a workbook at all")
    assert response.status_code == 200
    assert "not a zip" in response.text
    assert 'id="definition-text"' not in response.text
