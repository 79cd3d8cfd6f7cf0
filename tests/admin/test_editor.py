"""The editor: every kind of problem shown at its line and column, never published;
a diff of the edit, and a preview (diagram or phone-size form)."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake import i18n
from intake.accounts.models import User
from intake.definitions import service as definitions
from tests.admin.conftest import edit, with_family_contact
from tests.conftest import login, page_token


def _text(db: Session, kind: str, key: str) -> str:
    version = definitions.latest(db=db, kind=kind, key=key)
    assert version is not None
    return version.source_text


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = text.splitlines()
    found = [n for n, line in enumerate(lines, start=1) if needle in line]
    return found[occurrence - 1]


def _post(
    client: TestClient,
    action: str,
    text: str,
    *,
    kind: str = "workflow",
    key: str = "standard",
    htmx: bool = False,
):
    token = page_token(client, f"/admin/definitions/{kind}/{key}/edit")
    headers = {"HX-Request": "true", "X-CSRF-Token": token} if htmx else {}
    return client.post(
        f"/admin/definitions/{kind}/{key}/{action}",
        data={"csrf_token": token, "text": text, "base": "1"},
        headers=headers,
    )


def _problems(html: str) -> list[tuple[int, int, str]]:
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for item in soup.select("#problems li"):
        where = item.select_one(".where")
        assert where is not None
        found.append((int(where["data-line"]), int(where["data-column"]), item.get_text()))
    return found


WORKFLOW_MISTAKES = [
    # (what is wrong, old text, new text, text on the reported line, message)
    (
        "YAML does not parse",
        "    sla_days: 30\n",
        "    sla_days: 30: days\n",
        "sla_days: 30: days",
        "YAML does not parse",
    ),
    ("unknown key", "    sla_days: 30\n", "    sla_day: 30\n", "sla_day: 30", "sla_day"),
    (
        "unknown destination",
        "    dest: temporary_housing\n    label: {en: Move",
        "    dest: temporary_hosing\n    label: {en: Move",
        "dest: temporary_hosing",
        "unknown state 'temporary_hosing'",
    ),
    (
        "unknown form",
        "    forms: [housing_placement]\n",
        "    forms: [housing_placment]\n",
        "forms: [housing_placment]",
        "housing_placment",
    ),
    (
        "missing translation",
        '    label: {en: Reintegration, lt: Reintegracija, ru: Реинтеграция, uk: "Реінтеграція",'
        ' pl: "Reintegracja", lv: "Reintegrācija", ar: "إعادة الإدماج"}\n',
        '    label: {en: Reintegration, lt: Reintegracija, uk: "Реінтеграція", pl: "Reintegracja",'
        ' lv: "Reintegrācija", ar: "إعادة الإدماج"}\n',
        "label: {en: Reintegration",
        "ru",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "line_text", "message"),
    [case[1:] for case in WORKFLOW_MISTAKES],
    ids=[case[0] for case in WORKFLOW_MISTAKES],
)
def test_each_kind_of_problem_is_shown_at_its_line_and_never_published(
    client: TestClient,
    db: Session,
    admin: User,
    shipped: None,
    old: str,
    new: str,
    line_text: str,
    message: str,
) -> None:
    login(client, admin.username)
    text = edit(_text(db, "workflow", "standard"), old, new)
    checked = _post(client, "check", text)
    assert checked.status_code == 200
    problems = _problems(checked.text)
    assert problems, "no problem shown"
    line = _line_of(text, line_text)
    assert any(p[0] == line and message in p[2] for p in problems), (line, problems)
    assert f"Line {problems[0][0]}, column {problems[0][1]}" in problems[0][2]

    published = _post(client, "publish", text)
    assert published.status_code == 422
    assert "Nothing was published" in published.text
    assert _problems(published.text) == problems
    assert len(definitions.versions(db=db, kind="workflow", key="standard")) == 1


def test_problems_across_tracks_and_in_expressions_are_caught(
    client: TestClient, db: Session, admin: User, shipped: None
) -> None:
    login(client, admin.username)
    text = _text(db, "workflow", "young_girls")
    line = _line_of(text, "applies_when:")
    # Without its condition the girls' track would be a second catch-all.
    cases = [
        (edit(text, text.splitlines()[line - 1] + "\n", ""), "only one track may have no"),
        (edit(text, text.splitlines()[line - 1] + "\n", 'applies_when: "age <"\n'), ""),
    ]
    for changed, message in cases:
        problems = _problems(_post(client, "check", changed, key="young_girls").text)
        assert problems and all(p[0] >= 1 and p[1] >= 1 for p in problems)
        assert message in " ".join(p[2] for p in problems)
    assert len(definitions.versions(db=db, kind="workflow", key="young_girls")) == 1


def test_renaming_a_definition_in_the_editor_is_refused(
    client: TestClient, db: Session, admin: User, shipped: None
) -> None:
    login(client, admin.username)
    text = edit(_text(db, "form", "consent"), "id: consent\n", "id: consent_two\n")
    response = _post(client, "publish", text, kind="form", key="consent")
    assert response.status_code == 422
    assert _problems(response.text)[0][:2] == (_line_of(text, "id: consent_two"), 5)
    assert definitions.latest(db=db, kind="form", key="consent_two") is None


def test_form_problems_are_placed_too(
    client: TestClient, db: Session, admin: User, shipped: None
) -> None:
    login(client, admin.username)
    text = edit(
        _text(db, "form", "consent"), 'constraint: ". <= today()"', 'constraint: ". <= tomorrow()"'
    )
    problems = _problems(_post(client, "check", text, kind="form", key="consent").text)
    assert [p[0] for p in problems] == [_line_of(text, "tomorrow()")]


def test_htmx_check_returns_only_the_review_block(
    client: TestClient, db: Session, admin: User, shipped: None
) -> None:
    login(client, admin.username)
    text = edit(
        _text(db, "workflow", "standard"),
        "    dest: temporary_housing\n    label: {en: Move",
        "    dest: nowhere\n    label: {en: Move",
    )
    response = _post(client, "check", text, htmx=True)
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.find("html") is None and soup.find("textarea") is None
    root = soup.find(True)
    assert root is not None and root.get("id") == "review"
    assert "unknown state 'nowhere'" in soup.get_text()


def test_diff_shows_the_edit_escaped_and_the_diagram_shows_the_new_stage(
    client: TestClient, db: Session, admin: User, shipped: None
) -> None:
    login(client, admin.username)
    text = with_family_contact(_text(db, "workflow", "standard"))
    text = text.replace("# The standard assistance track", "# <script>alert(1)</script> track")
    response = _post(client, "check", text)
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.select_one("#no-problems") is not None
    added = [row.get_text() for row in soup.select("tr.diff-add")]
    removed = [row.get_text() for row in soup.select("tr.diff-del")]
    assert any("family_contact:" in row for row in added)
    assert any("<script>alert(1)</script>" in row for row in added)
    assert any("# The standard assistance track" in row for row in removed)
    assert "<script>alert(1)" not in response.text  # shown as text, never as markup
    svg = soup.select_one("#review figure svg")
    assert svg is not None
    assert "Family contact" in svg.get_text()
    assert svg.find(["script", "style", "foreignObject", "a"]) is None


def test_diagram_labels_follow_the_administrators_language(
    client: TestClient, db: Session, admin: User, shipped: None
) -> None:
    admin.locale = "lt"
    db.commit()
    login(client, admin.username)
    svg = BeautifulSoup(
        client.get("/admin/definitions/workflow/standard").text, "html.parser"
    ).select_one("figure svg")
    assert svg is not None
    assert "Laikinas apgyvendinimas" in svg.get_text()
    assert "Temporary housing" not in svg.get_text()


def test_without_graphviz_the_page_says_so_and_falls_back_to_text(
    client: TestClient, db: Session, admin: User, shipped: None, monkeypatch
) -> None:
    monkeypatch.setenv("PATH", "")
    login(client, admin.username)
    response = client.get("/admin/definitions/workflow/standard")
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.select_one("figure svg") is None
    assert "Graphviz is not installed" in response.text
    assert "stateDiagram-v2" in soup.select_one("pre.mermaid-text").get_text()
    states = [row.get_text() for row in soup.select(".diagram-table tbody tr")]
    assert any("Temporary housing" in row and "temporary_housing" in row for row in states)


def test_form_preview_shows_every_language_read_only(
    client: TestClient, db: Session, supervisor: User, shipped: None
) -> None:
    login(client, supervisor.username)
    soup = BeautifulSoup(client.get("/admin/definitions/form/consent").text, "html.parser")
    phones = soup.select(".form-preview .phone")
    assert [phone["lang"] for phone in phones] == list(i18n.SUPPORTED_LOCALES)
    assert "Language used to explain" in phones[0].get_text()
    assert "Kalba, kuria paaiškinta" in phones[1].get_text()
    fields = soup.select(".form-preview input, .form-preview textarea")
    assert fields and all(f.has_attr("disabled") for f in fields)
    assert soup.select(".form-preview form") == []


def test_pages_never_load_anything_but_our_own_assets(
    client: TestClient, db: Session, admin: User, shipped: None
) -> None:
    login(client, admin.username)
    soup = BeautifulSoup(
        client.get("/admin/definitions/workflow/standard/edit").text, "html.parser"
    )
    sources = [tag.get("src") or tag.get("href") for tag in soup.find_all(["script", "link"])]
    # Content-hashed names (intake.static_assets): editor.<hash>.js, admin.<hash>.css.
    assert any(re.fullmatch(r"/static/js/editor\.[0-9a-f]{16}\.js", s or "") for s in sources)
    assert any(re.fullmatch(r"/static/css/admin\.[0-9a-f]{16}\.css", s or "") for s in sources)
    # The web app manifest is ours too, served from the site root as browsers require.
    ours = ("data:,", "/manifest.webmanifest")
    assert all(s in ours or s.startswith("/static/") for s in sources)
    assert soup.find("script", src=False) is None
    assert soup.find(style=True) is None
    assert i18n.get_locale() == "en"
