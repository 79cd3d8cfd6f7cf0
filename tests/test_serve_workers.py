"""`intake serve --workers N`: the default per database, and secrets made once before."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from intake import cli


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[dict[str, Any]]]:
    """What uvicorn.run was asked, and which secrets existed when it was."""
    calls: list[dict[str, Any]] = []

    def run(app: str, **options: Any) -> None:
        secrets = sorted(p.name for p in (tmp_path / "var").iterdir() if "key" in p.name)
        calls.append({**options, "secrets": secrets})

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setenv("INTAKE_VAR_DIR", str(tmp_path / "var"))
    for name in ("INTAKE_SECRET_KEY", "INTAKE_DATA_KEYS", "INTAKE_MODE"):
        monkeypatch.delenv(name, raising=False)
    cache_clear = getattr(cli.get_settings, "cache_clear", None)
    if cache_clear is not None:  # the settings are read once per process
        cache_clear()
    yield calls
    if cache_clear is not None:
        cache_clear()


def _serve(*args: str) -> None:
    parsed = cli.build_parser().parse_args(["serve", *args])
    assert parsed.handler(parsed) == 0


def test_sqlite_serves_in_one_process_and_secrets_exist_before_it_starts(
    started: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("INTAKE_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    _serve()
    assert started[0]["workers"] == 1
    assert started[0]["secrets"] == ["data_keys", "secret_key"]


def test_postgresql_serves_a_process_per_core_unless_told(
    started: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKE_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    _serve()
    _serve("--workers", "3")
    assert [call["workers"] for call in started] == [os.cpu_count() or 1, 3]
    assert started[0]["secrets"] == ["data_keys", "secret_key"]
