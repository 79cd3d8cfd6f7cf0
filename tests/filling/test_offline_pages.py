"""The installable app's files, the page kept for going on without a connection (blank:
no answer in it), and the outbox page."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup
from sqlalchemy.orm import Session

from intake.definitions import service as definitions
from intake.middleware import CSP
from tests.conftest import login
from tests.forms.test_views import MEETING, post_page, start

CANARY = "Qwerty-canary"


@pytest.fixture(autouse=True)
def published(db: Session) -> None:
    definitions.sync_files(db=db)


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def test_the_service_worker_is_served_from_the_root_to_anyone(client) -> None:
    answer = client.get("/sw.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["content-security-policy"] == CSP
    assert "unsafe" not in CSP
    first_line = answer.text.split("\n", 1)[0]
    config = json.loads(first_line.removeprefix("var INTAKE_PRECACHE = ").rstrip(";"))
    assert config["version"]
    assert all(url.startswith("/static/") for url in config["assets"])
    for url in config["assets"]:  # every precached asset exists under its hashed name
        assert client.get(url).status_code == 200, url
    assert "eval(" not in answer.text and "new Function" not in answer.text


def test_the_manifest_names_the_app_and_its_scope(client) -> None:
    answer = client.get("/manifest.webmanifest")
    assert answer.status_code == 200
    data = answer.json()
    assert data["start_url"] == "/" and data["scope"] == "/" and data["display"] == "standalone"
    assert client.get(data["icons"][0]["src"]).status_code == 200


def test_every_page_links_the_manifest_and_the_shell_scripts(client, worker) -> None:
    login(client, worker.username)
    page = soup(client.get("/drafts").text)
    assert page.find("link", rel="manifest")["href"] == "/manifest.webmanifest"
    scripts = [s["src"] for s in page.find_all("script")]
    assert any("/js/app-shell." in s for s in scripts)
    assert any("/js/offline-store." in s for s in scripts)
    assert page.find("a", href="/outbox") is not None
    warning = page.find("form", action="/logout")["data-unsent"]
    assert "%(num)s" in warning and "never" not in warning


def test_the_offline_page_holds_every_page_and_no_answer(client, worker) -> None:
    login(client, worker.username)
    client_id = start(client)
    post_page(client, client_id, MEETING)
    post_page(client, client_id, {"given_name": CANARY, "age": "30"}, action="back")
    answer = client.get(f"/fill/{client_id}/offline")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert CANARY not in answer.text and "2024-03-01" not in answer.text
    page = soup(answer.text)
    sections = page.select("section.offline-page")
    assert [s["data-page"] for s in sections] == ["0", "1", "2", "3"]
    form = page.find("form", attrs={"data-offline-form": True})
    meta = json.loads(form["data-meta"])
    assert meta["client_id"] == client_id and meta["owner"] == worker.id
    checks = json.loads(form["data-checks"])
    assert checks["age"]["constraint"] and checks["age"]["message"].startswith("Enter an age")
    assert checks["contact_date"]["required"] is True
    assert page.find("input", {"name": "given_name"})["value"] == ""


def test_the_offline_page_is_only_the_owners(client, worker, org, db) -> None:
    from tests.conftest import make_user

    login(client, worker.username)
    client_id = start(client)
    client.cookies.clear()
    login(client, make_user(db, org, "outreach_worker", "someone.else").username)
    assert client.get(f"/fill/{client_id}/offline").status_code == 404
    assert client.get("/fill/short/offline").status_code == 422


def test_the_outbox_page_says_what_it_shows_and_needs(client, worker) -> None:
    login(client, worker.username)
    page = soup(client.get("/outbox").text)
    box = page.find(id="outbox")
    assert box["data-owner"] == worker.id
    headers = [th.get_text() for th in box.find_all("th")]
    assert headers == ["Form", "Finished", "Size", "State"]  # never a name
    assert "another user" in box["data-others"]
    assert page.find("noscript") is not None
    assert page.find(attrs={"aria-live": "polite"}) is not None


def test_an_administrator_has_no_outbox(client, admin) -> None:
    login(client, admin.username)
    assert client.get("/outbox").status_code == 403
    assert client.get("/offline/key").status_code == 403
