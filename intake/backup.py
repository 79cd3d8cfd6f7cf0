"""Backup and restore of an SQLite database, checked both ways.

The copy is made with SQLite's online backup API: consistent while the server keeps
writing (WAL readers are never blocked; the copy is one snapshot). A backup holds sealed
values only; without the data keys (INTAKE_DATA_KEYS) it opens no sensitive answer, so
keys and backups are kept apart (README, "Data protection"). PostgreSQL installations use
`pg_dump` / `pg_restore`; the same content check runs with `intake audit verify`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from intake.audit import service as audit
from intake.db import make_engine, make_session_factory, read_transaction


class BackupError(Exception):
    """A backup or restore that was refused; the message says why, with no data in it."""


@dataclass(frozen=True)
class Report:
    tables: int
    rows: int
    audit_events: int


def sqlite_path(url: str) -> Path:
    """The file of an SQLite URL (BackupError for any other database)."""
    if not url.startswith("sqlite:///") or ":memory:" in url:
        raise BackupError(
            "only an SQLite file is backed up by this command; "
            "for PostgreSQL use pg_dump (see the README)"
        )
    return Path(url.removeprefix("sqlite:///"))


def _copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        # Pages in steps: the server's writers wait at most one step, never the whole copy.
        src.backup(dst, pages=256)
    finally:
        dst.close()
        src.close()


def check(path: Path) -> Report:
    """Count the rows of a database file and verify its audit chain (BackupError if broken)."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
        if "audit_events" not in tables:
            raise BackupError("the file is not an intake database")
        with make_session_factory(engine)() as db, read_transaction(db):
            rows = sum(
                int(db.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one())  # noqa: S608
                for t in tables
            )
            events = int(db.execute(text("SELECT count(*) FROM audit_events")).scalar_one())
            broken = audit.verify_chain(db=db)
    except DatabaseError:
        # Not SQLite at all, or damaged: refused with a sentence, not a traceback.
        raise BackupError("the file is not an intake database") from None
    finally:
        engine.dispose()
    if broken is not None:
        raise BackupError(f"the audit chain is broken at event {broken}")
    return Report(tables=len(tables), rows=rows, audit_events=events)


def backup(*, database_url: str, target: Path) -> Report:
    """Copy the live database to `target` (which must not exist) and check the copy."""
    source = sqlite_path(database_url)
    if target.exists():
        raise BackupError("the backup file exists already; choose a new name")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(mode=0o600)
    try:
        _copy(source, target)
        return check(target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _holds_data(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    try:
        return check(path).rows > 0
    except BackupError:
        return True


def restore(*, database_url: str, source: Path, force: bool = False) -> Report:
    """Replace the database with the backup `source`, after checking it; a database that
    holds anything is overwritten only with `force`. The restored audit chain is verified."""
    target = sqlite_path(database_url)
    if not source.is_file():
        raise BackupError("no such backup file")
    check(source)
    if _holds_data(target) and not force:
        raise BackupError("the database is not empty; add --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(source, target)
    return check(target)
