"""Hostile YAML in the editor: problems at their place, a bounded page, nothing published."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.definitions import service as definitions
from tests.admin.conftest import edit
from tests.conftest import login, page_token

BASE = "/admin/definitions/workflow/standard"


def _post(client: TestClient, action: str, text: str, base: str = BASE):
    token = page_token(client, f"{base}/edit")
    return client.post(f"{base}/{action}", data={"csrf_token": token, "text": text, "base": "1"})


def _places(html: str) -> list[tuple[int, str]]:
    soup = BeautifulSoup(html, "html.parser")
    return [
        (int(item.select_one(".where")["data-line"]), item.get_text())
        for item in soup.select("#problems li")
    ]


HOSTILE = [
    ("version: 1\n", "version: 1\x00\n", "U+0000"),
    ("priority: 0\n", "priority: \x1b\n", "U+001B"),
    ("version: 1\n", "version: 2024-02-30\n", "not a real date"),
    ("priority: 0\n", "priority: " + "[" * 3000 + "]" * 3000 + "\n", "nested"),
    ("version: 1\n", "version: !!python/object/new:os.system [id]\n", "is not allowed"),
    ("priority: 0\n", "priority: !secret {a: 1}\n", "tag '!secret' is not allowed"),
    ("priority: 0\n", "priority: !secret [1]\n", "tag '!secret' is not allowed"),
]


@pytest.mark.parametrize(("old", "new", "message"), HOSTILE)
def test_hostile_yaml_is_a_problem_in_the_editor_and_never_published(
    client: TestClient,
    db: Session,
    admin: User,
    shipped: None,
    old: str,
    new: str,
    message: str,
) -> None:
    login(client, admin.username)
    newest = definitions.latest(db=db, kind="workflow", key="standard")
    assert newest is not None
    text = edit(newest.source_text, old, new)
    line = text.splitlines().index(new.rstrip("\n")) + 1
    checked = _post(client, "check", text)
    assert checked.status_code == 200
    assert any(message in found and place == line for place, found in _places(checked.text))
    published = _post(client, "publish", text)
    assert published.status_code == 422
    assert any(message in found for _, found in _places(published.text))
    db.expire_all()
    assert [v.number for v in definitions.versions(db=db, kind="workflow", key="standard")] == [1]


def test_the_editor_lists_the_first_200_problems_then_a_count(
    client: TestClient, db: Session, admin: User, shipped: None
) -> None:
    login(client, admin.username)
    newest = definitions.latest(db=db, kind="form", key="consent")
    assert newest is not None
    choices = "".join(f"    - {{name: c{i}, label: {{en: C}}, x: 1}}\n" for i in range(450))
    text = newest.source_text.replace("\npages:", "\nchoice_lists:\n  many:\n" + choices + "pages:")
    response = _post(client, "check", text, base="/admin/definitions/form/consent")
    assert response.status_code == 200
    soup = BeautifulSoup(response.text, "html.parser")
    assert len(soup.select("#problems li")) == 200
    total = int(soup.select_one("#problems strong").get_text().split()[0])
    assert total >= 450
    more = soup.select_one("#problems .more-problems").get_text()
    assert more == f"and {total - 200} more problems"
