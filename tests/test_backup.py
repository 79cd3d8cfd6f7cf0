"""Backup of a live SQLite database under writes, restored to identical content with an
intact audit chain; a non-empty database is overwritten only when asked."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from intake import backup, migrate
from intake.audit import service as audit
from intake.db import make_engine, make_session_factory, write_transaction


def _dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_a_live_database_backs_up_under_writes_and_restores_identically(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    migrate.upgrade(url=url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    stop = threading.Event()
    written = []

    def writer() -> None:
        with factory() as db:
            while not stop.is_set():
                with write_transaction(db):
                    audit.record(db=db, action="test.write", object_id=str(len(written)))
                written.append(1)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 20:
            stop.wait(0.01)
        report = backup.backup(database_url=url, target=tmp_path / "copy.sqlite3")
    finally:
        stop.set()
        thread.join()
        engine.dispose()
    assert report.audit_events >= 20
    with pytest.raises(backup.BackupError, match="exists"):
        backup.backup(database_url=url, target=tmp_path / "copy.sqlite3")

    # The live database has moved on: it is not empty, so restoring needs --force.
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(database_url=url, source=tmp_path / "copy.sqlite3")
    restored = backup.restore(database_url=url, source=tmp_path / "copy.sqlite3", force=True)
    assert restored == report
    assert _dump(tmp_path / "live.sqlite3") == _dump(tmp_path / "copy.sqlite3")

    fresh = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    assert backup.restore(database_url=fresh, source=tmp_path / "copy.sqlite3") == report


def test_a_backup_with_a_broken_chain_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    migrate.upgrade(url=url)
    engine = make_engine(url)
    with make_session_factory(engine)() as db, write_transaction(db):
        audit.record(db=db, action="test.write")
    engine.dispose()
    copy = tmp_path / "copy.sqlite3"
    backup.backup(database_url=url, target=copy)
    conn = sqlite3.connect(copy)
    conn.execute("UPDATE audit_events SET detail = 'forged'")
    conn.commit()
    conn.close()
    with pytest.raises(backup.BackupError, match="audit chain"):
        backup.restore(database_url=f"sqlite:///{tmp_path / 'new.sqlite3'}", source=copy)


def test_postgresql_is_pointed_to_pg_dump(tmp_path: Path) -> None:
    with pytest.raises(backup.BackupError, match="pg_dump"):
        backup.backup(database_url="postgresql://x/y", target=tmp_path / "b")
