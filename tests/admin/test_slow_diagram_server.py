"""A slow diagram holds nobody up (issue: Reliability, item 1).

A real server on a real SQLite file, with a `dot` on its PATH that takes 3 s to draw.
While an administrator checks a track in the editor, a worker signs in and saves:
each must answer within a generous bound, and nothing answers 500.
"""

from __future__ import annotations

import html
import os
import re
import threading
import time
from collections.abc import Iterator

import pytest

from tests.live_server import csrf_token, live_server, signed_in

BOUND_SECONDS = 1.0
DOT_SECONDS = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("slowdot")
    slow_bin = base / "bin"
    slow_bin.mkdir()
    dot = slow_bin / "dot"
    dot.write_text(f"#!/bin/sh\ncat > /dev/null\nsleep {DOT_SECONDS}\nexit 1\n")
    dot.chmod(0o755)
    with live_server(
        base,
        users=[("editor", "admin"), ("worker", "outreach_worker")],
        env={"PATH": f"{slow_bin}{os.pathsep}{os.environ.get('PATH', '')}"},
        sync_definitions=True,
    ) as url:
        yield url


def test_checking_a_track_whose_diagram_is_slow_holds_nobody_up(server: str) -> None:
    editor = signed_in(server, "editor")
    page = editor.get("/admin/definitions/workflow/standard/edit")
    assert page.status_code == 200
    text = re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", page.text, re.S)
    base = re.search(r'name="base" value="(\d+)"', page.text)
    assert text and base
    checked: dict[str, object] = {}

    def check() -> None:
        started = time.monotonic()
        answer = editor.post(
            "/admin/definitions/workflow/standard/check",
            data={
                "csrf_token": csrf_token(page.text),
                "base": base.group(1),
                "text": html.unescape(text.group(1)),
            },
        )
        checked["status"], checked["seconds"] = answer.status_code, time.monotonic() - started

    checking = threading.Thread(target=check)
    checking.start()
    time.sleep(0.5)  # the check is drawing now
    started = time.monotonic()
    worker = signed_in(server, "worker")
    signed_in_after = time.monotonic() - started
    token = csrf_token(worker.get("/").text)
    started = time.monotonic()
    saved = worker.post("/language", data={"locale": "lt", "csrf_token": token})
    saved_after = time.monotonic() - started
    checking.join(30)
    assert saved.status_code == 303
    assert signed_in_after < BOUND_SECONDS, signed_in_after
    assert saved_after < BOUND_SECONDS, saved_after
    # The check itself answered (with the table instead of the drawing), after dot.
    assert checked["status"] == 200
    assert float(checked["seconds"]) >= DOT_SECONDS  # type: ignore[arg-type]
