"""Numbers beyond what a version can be, in a URL or in YAML: a 404 or a problem, never a 500."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.definitions import service as definitions
from tests.admin.conftest import edit
from tests.conftest import login, page_token

HUGE = "100000000000000000000"  # beyond 64 bits
NUMBERS = [HUGE, "2147483648", "-" + HUGE]
BASE = "/admin/definitions/workflow/standard"


@pytest.mark.parametrize("number", NUMBERS)
def test_out_of_range_version_numbers_in_urls_are_404(
    client: TestClient, admin: User, shipped: None, number: str
) -> None:
    login(client, admin.username)
    token = page_token(client, f"{BASE}/edit")
    gets = [
        f"{BASE}/versions/{number}",
        f"{BASE}/versions/{number}/download",
        f"{BASE}/migrate?source={number}",
        f"{BASE}/migrate?source=1&target={number}",
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    response = client.post(f"{BASE}/versions/{number}/republish", data={"csrf_token": token})
    assert response.status_code == 404
    for action in ("dry-run", "apply"):
        response = client.post(
            f"{BASE}/migrate/{action}",
            data={"csrf_token": token, "source": number, "target": "1"},
        )
        assert response.status_code == 404, action
        response = client.post(
            f"{BASE}/migrate/{action}",
            data={"csrf_token": token, "source": "1", "target": number},
        )
        assert response.status_code == 404, action


@pytest.mark.parametrize("declared", [HUGE, "2147483648", "0"])
def test_an_out_of_range_declared_version_is_a_problem_and_nothing_is_published(
    client: TestClient, db: Session, admin: User, shipped: None, declared: str
) -> None:
    login(client, admin.username)
    newest = definitions.latest(db=db, kind="workflow", key="standard")
    assert newest is not None
    text = edit(newest.source_text, "\nversion: 1\n", f"\nversion: {declared}\n")
    line = text.splitlines().index(f"version: {declared}") + 1
    token = page_token(client, f"{BASE}/edit")
    response = client.post(f"{BASE}/publish", data={"csrf_token": token, "text": text, "base": "1"})
    assert response.status_code == 422
    soup = BeautifulSoup(response.text, "html.parser")
    places = [int(li.select_one(".where")["data-line"]) for li in soup.select("#problems li")]
    assert line in places
    db.expire_all()
    assert [v.number for v in definitions.versions(db=db, kind="workflow", key="standard")] == [1]


def test_an_out_of_range_form_version_is_a_problem(db: Session, shipped: None) -> None:
    from intake.forms.loader import load_form
    from intake.yaml_source import DefinitionProblems

    newest = definitions.latest(db=db, kind="form", key="consent")
    assert newest is not None
    text = edit(newest.source_text, "\nversion: 1\n", f"\nversion: {HUGE}\n")
    with pytest.raises(DefinitionProblems) as refused:
        load_form(text, file="consent.yaml")
    assert any("version" in p.message for p in refused.value.problems)
