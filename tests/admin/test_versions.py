"""Publishing, rolling back, downloading and uploading keep every version intact."""

from __future__ import annotations

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.audit.models import AuditEvent
from intake.definitions import service as definitions
from intake.definitions.models import DefinitionVersion
from tests.admin.conftest import edit, with_family_contact
from tests.conftest import csrf_from, login, page_token

EDIT = "/admin/definitions/workflow/standard/edit"


def _versions(db: Session, key: str = "standard") -> list[DefinitionVersion]:
    db.expire_all()
    return list(reversed(definitions.versions(db=db, kind="workflow", key=key)))


def _publish(
    client: TestClient, text: str, base: int, kind: str = "workflow", key: str = "standard"
):
    token = page_token(client, f"/admin/definitions/{kind}/{key}/edit")
    return client.post(
        f"/admin/definitions/{kind}/{key}/publish",
        data={"csrf_token": token, "text": text, "base": str(base), "note": "more stages"},
    )


def test_publish_and_rollback_keep_every_version_with_its_text(
    client: TestClient, db: Session, admin: User, shipped: None
) -> None:
    login(client, admin.username)
    original = _versions(db)[0].source_text
    assert original.startswith("# The standard assistance track")
    second = "# Reviewed with the shelter team in March.\n" + with_family_contact(original)

    # A browser posts a textarea with CRLF line endings; the text is stored as written.
    response = _publish(client, second.replace("\n", "\r\n"), base=1)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/definitions/workflow/standard?published=2"

    token = page_token(client, "/admin/definitions/workflow/standard")
    rollback = client.post(
        "/admin/definitions/workflow/standard/versions/1/republish", data={"csrf_token": token}
    )
    assert rollback.status_code == 303

    versions = _versions(db)
    assert [v.number for v in versions] == [1, 2, 3]
    assert [v.source_text for v in versions] == [original, second, original]
    assert versions[1].source_text.startswith("# Reviewed with the shelter team in March.\n")
    assert versions[1].published_by_id == admin.id and versions[1].note == "more stages"
    assert versions[2].note == "republished version 1"
    # The old versions are still readable, each with its own text.
    page = client.get("/admin/definitions/workflow/standard/versions/2")
    lines = [li.get_text() for li in BeautifulSoup(page.text, "html.parser").select("ol.source li")]
    assert lines == second.splitlines()
    listing = BeautifulSoup(client.get("/admin/definitions").text, "html.parser")
    numbers = [a.get_text() for a in listing.select("#workflows a[href*='/standard/versions/']")]
    assert numbers == ["3", "2", "1"]
    actions = db.execute(select(AuditEvent.action)).scalars().all()
    assert actions.count("definition.published.workflow") >= 3


def test_publishing_unchanged_text_is_refused(
    client: TestClient, db: Session, admin: User, shipped: None
) -> None:
    login(client, admin.username)
    response = _publish(client, _versions(db)[0].source_text, base=1)
    assert response.status_code == 422
    assert "same as the newest version" in response.text
    token = page_token(client, "/admin/definitions/workflow/standard")
    again = client.post(
        "/admin/definitions/workflow/standard/versions/1/republish", data={"csrf_token": token}
    )
    assert again.status_code == 422
    assert [v.number for v in _versions(db)] == [1]


def test_second_of_two_administrators_is_told_to_reload(
    client: TestClient, db: Session, admin: User, shipped: None
) -> None:
    login(client, admin.username)
    original = _versions(db)[0].source_text
    first = with_family_contact(original)
    # Both opened the editor on version 1; the first publishes, then the second.
    assert _publish(client, first, base=1).status_code == 303
    mine = edit(original, "sla_days: 3\n", "sla_days: 2\n")
    response = _publish(client, mine, base=1)
    assert response.status_code == 409
    assert "Someone else published a new version" in response.text
    # The second administrator's text is still on the page, so nothing typed is lost.
    textarea = BeautifulSoup(response.text, "html.parser").select_one("textarea#definition-text")
    assert "sla_days: 2" in textarea.get_text()
    assert [v.source_text for v in _versions(db)] == [original, first]


def test_publish_racing_on_the_same_number_is_a_conflict(
    client: TestClient, db: Session, admin: User, shipped: None, monkeypatch
) -> None:
    from intake.admin import service

    login(client, admin.username)
    original = _versions(db)[0].source_text
    rival = with_family_contact(original)
    service.publish_edit(
        db=db, kind="workflow", key="standard", text=rival, base_number=1, actor=admin
    )
    first = _versions(db)[0]
    # The racing request read the newest version before the rival's insert landed.
    monkeypatch.setattr(definitions, "latest", lambda **kwargs: first)
    response = _publish(client, edit(original, "sla_days: 3\n", "sla_days: 2\n"), base=1)
    assert response.status_code == 409
    assert "Someone else published a new version" in response.text
    assert [v.source_text for v in _versions(db)] == [original, rival]


def test_download_is_an_attachment_with_the_text_as_written(
    client: TestClient, db: Session, supervisor: User, shipped: None
) -> None:
    login(client, supervisor.username)
    response = client.get("/admin/definitions/form/consent/versions/1/download")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/yaml; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="consent-1.yaml"'
    assert response.headers["cache-control"] == "no-store"
    stored = definitions.latest(db=db, kind="form", key="consent")
    assert stored is not None and response.content == stored.source_text.encode("utf-8")
    assert client.get("/admin/definitions/form/consent/versions/9/download").status_code == 404
    assert client.get("/admin/definitions/sheet/consent/versions/1/download").status_code == 404


def _upload(client: TestClient, name: str, data: bytes, kind: str = "workflow"):
    token = csrf_from(client.get("/admin/definitions").text)
    return client.post(
        "/admin/definitions/upload",
        data={"csrf_token": token, "kind": kind},
        files={"file": (name, data, "application/x-yaml")},
    )


def test_upload_publishes_a_checked_file(
    client: TestClient, db: Session, admin: User, shipped: None
) -> None:
    login(client, admin.username)
    text = with_family_contact(_versions(db)[0].source_text)
    response = _upload(client, "standard.yaml", text.encode())
    assert response.status_code == 303
    assert [v.source_text for v in _versions(db)][-1] == text


def test_bad_uploads_are_refused_and_nothing_is_published(
    client: TestClient, db: Session, admin: User, shipped: None
) -> None:
    login(client, admin.username)
    original = _versions(db)[0].source_text
    cases = [
        ("standard.yaml", b"id: standard\n" + b"#" * (256 * 1024), 413, "larger than 256 KB"),
        ("standard.yaml", original.encode("utf-16"), 422, "not UTF-8"),
        ("standard.yaml", b"\x89PNG\r\n\x1a\n\x00\x00", 422, "not UTF-8"),
        ("standard.txt", original.encode(), 422, "Only YAML files"),
        ("standard.yaml", b"id: [standard\nversion: 2\n", 422, "Line 2, column"),
        (
            "standard.yaml",
            original.replace("dest: closed", "dest: done").encode(),
            422,
            "unknown state",
        ),
        ("standard.yaml", original.encode(), 422, "same as the newest version"),
    ]
    for name, data, status, message in cases:
        response = _upload(client, name, data)
        assert (response.status_code, message in response.text) == (status, True), message
    assert [v.number for v in _versions(db)] == [1]
