"""Open-case and draft counts on the definitions pages stay inside the viewer's organisation."""

from __future__ import annotations

import itertools

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases.models import Case
from intake.definitions import service as definitions
from intake.definitions.models import DefinitionVersion
from tests.admin.conftest import MakeCase
from tests.conftest import login, make_user

_references = itertools.count(1)


def _counts(html: str, kind: str, key: str) -> list[str]:
    """The usage cell of each version row of one definition, as shown."""
    soup = BeautifulSoup(html, "html.parser")
    cells = []
    for row in soup.select("tr"):
        link = row.select_one(f'a[href^="/admin/definitions/{kind}/{key}/versions/"]')
        cell = row.select_one("td.count")
        if link is not None and cell is not None:
            cells.append(cell.get_text(strip=True))
    return cells


def _cases(db: Session, owner: User, version: DefinitionVersion, state: str, count: int) -> None:
    for _ in range(count):
        db.add(
            Case(
                reference=f"B-{next(_references):06d}",
                organisation_id=owner.organisation_id,
                owner_id=owner.id,
                workflow_version_id=version.id,
                track=version.key,
                state=state,
            )
        )
    db.commit()


def test_each_supervisor_counts_only_their_organisations_cases(
    client: TestClient,
    db: Session,
    standard: DefinitionVersion,
    make_case: MakeCase,
    supervisor: User,
    other_org: Organisation,
) -> None:
    girls = definitions.latest(db=db, kind="workflow", key="young_girls")
    assert girls is not None
    for _ in range(3):
        make_case(standard, "urgent_assistance")
    make_case(standard, "closed", closed=True)
    other = make_user(db, other_org, "supervisor", "supervisor-b")
    _cases(db, other, girls, girls.parsed["initial"], 2)
    _cases(db, other, standard, "urgent_assistance", 4)

    login(client, supervisor.username)
    for page in ("/admin/definitions", "/admin/definitions/workflow/standard"):
        assert _counts(client.get(page).text, "workflow", "standard") == ["3"], page
    for page in ("/admin/definitions", "/admin/definitions/workflow/young_girls"):
        assert _counts(client.get(page).text, "workflow", "young_girls") == ["0"], page

    client.cookies.clear()
    login(client, other.username)
    page = client.get("/admin/definitions").text
    assert _counts(page, "workflow", "young_girls") == ["2"]
    assert _counts(page, "workflow", "standard") == ["4"]


def test_administrators_see_no_case_counts(
    client: TestClient,
    db: Session,
    standard: DefinitionVersion,
    make_case: MakeCase,
    admin: User,
) -> None:
    make_case(standard, "urgent_assistance")
    login(client, admin.username)
    for page in ("/admin/definitions", "/admin/definitions/workflow/standard"):
        html = client.get(page).text
        assert _counts(html, "workflow", "standard") == ["–"], page
        assert "1" not in _counts(html, "workflow", "standard")
