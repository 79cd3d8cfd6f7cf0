"""A slow or oversized diagram never holds a request: the page falls back to text and a table."""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.definitions import service as definitions
from intake.workflow import diagram
from intake.workflow.loader import parse_track
from tests.conftest import login, page_token


def _check(client: TestClient, text: str):
    token = page_token(client, "/admin/definitions/workflow/standard/edit")
    return client.post(
        "/admin/definitions/workflow/standard/check",
        data={"csrf_token": token, "text": text, "base": "1"},
    )


def big_track(states: int, *, extra_moves: int = 0) -> str:
    """A shape-valid track: a chain of `states` stages, and optional moves back to the start."""
    lines = [
        "id: big",
        "version: 1",
        "languages: [en]",
        "title: {en: Big}",
        "initial: s0",
        "states:",
    ]
    for n in range(states):
        lines.append(
            f"  s{n}: {{label: {{en: Stage {n}}}{', final: true' if n == states - 1 else ''}}}"
        )
    lines.append("transitions:")
    move = "  - {{trigger: {}, source: {}, dest: {}, label: {{en: Move}}, roles: [supervisor]}}"
    lines += [move.format(f"go{n}", f"s{n}", f"s{n + 1}") for n in range(states - 1)]
    lines += [move.format(f"back{n}", f"s{n % (states - 1)}", "s0") for n in range(extra_moves)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def slow_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `dot` that never answers (it waits in a child process, as a hung layout would)."""
    script = tmp_path / "dot"
    script.write_text("#!/bin/sh\nsleep 120\necho never\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setattr(diagram, "DOT_TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(diagram, "_drawn", OrderedDict())  # nothing drawn earlier is reused


def test_a_hung_graphviz_is_stopped_and_the_editor_shows_the_table(
    client: TestClient, db: Session, admin: User, shipped: None, slow_dot: None
) -> None:
    login(client, admin.username)
    version = definitions.latest(db=db, kind="workflow", key="standard")
    assert version is not None
    started = time.monotonic()
    response = _check(client, version.source_text)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < 10, elapsed  # the fake dot would sleep for 120 s
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.select_one("figure svg") is None
    assert "took too long" in soup.select_one("#diagram-fallback").get_text()
    assert "stateDiagram-v2" in soup.select_one("pre.mermaid-text").get_text()
    states = [row.get_text() for row in soup.select(".diagram-table tbody tr")]
    assert any("temporary_housing" in row for row in states)


@pytest.mark.parametrize(
    ("states", "extra_moves"),
    [(diagram.MAX_DRAWN_STATES + 1, 0), (30, diagram.MAX_DRAWN_TRANSITIONS)],
)
def test_a_track_too_large_to_draw_is_shown_as_text_and_table(
    states: int, extra_moves: int
) -> None:
    _, track = parse_track(big_track(states, extra_moves=extra_moves), file="big.yaml")
    drawn = diagram.draw(track, language="en")
    assert drawn.svg is None and drawn.fallback == "too_large"
    assert len(drawn.states) == states
    assert len(drawn.transitions) == states - 1 + extra_moves


def test_the_editor_says_a_large_track_is_too_large_to_draw(
    client: TestClient, admin: User, shipped: None
) -> None:
    login(client, admin.username)
    response = _check(client, big_track(diagram.MAX_DRAWN_STATES + 5))
    assert response.status_code == 200
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.select_one("figure svg") is None
    assert "too large to draw" in soup.select_one("#diagram-fallback").get_text()
    rows = soup.select(".diagram-table table:first-of-type tbody tr")
    assert len(rows) == diagram.MAX_DRAWN_STATES + 5


def test_a_small_track_is_still_drawn() -> None:
    _, track = parse_track(big_track(5), file="small.yaml")
    drawn = diagram.draw(track, language="en")
    assert drawn.fallback is None and drawn.svg is not None
    assert "Stage 4" in drawn.svg
