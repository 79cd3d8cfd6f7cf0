"""`intake retention run [--dry-run]`, run as an operator would."""

from __future__ import annotations

from pathlib import Path

from tests.keys.test_cli import _run
from tests.keys.test_rotation import OLD


def test_retention_run_from_the_command_line(tmp_path: Path) -> None:
    assert _run(tmp_path, OLD, "db", "upgrade").returncode == 0
    dry = _run(tmp_path, OLD, "retention", "run", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "0 closed case(s) are past their retention period; nothing was changed" in dry.stdout
    done = _run(tmp_path, OLD, "retention", "run")
    assert done.returncode == 0 and "anonymised 0 of 0" in done.stdout
