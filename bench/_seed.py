"""Helpers for the benchmarks: throwaway databases, users, and cases inserted in bulk.

A SQLite file lives in a temporary folder; a PostgreSQL database is used only in a
schema of its own (made here, dropped afterwards), as the test suite does.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import platform
import random
import secrets
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from intake import migrate
from intake.accounts import service as accounts
from intake.accounts.models import User
from intake.cases.models import Case
from intake.config import Settings
from intake.db import make_engine, make_session_factory
from intake.definitions import service as definitions

PASSWORD = "a long bench password, never used elsewhere"


@contextmanager
def one_hash_for_the_bench_password() -> Iterator[None]:
    """Hash the shared bench password once: argon2id at full strength costs about
    0.2 s a hash, and the benches make dozens of users with that one password
    (signing in still verifies it in full)."""
    from intake.security import passwords

    real = passwords.hash_password
    known = real(PASSWORD)
    passwords.hash_password = lambda given: known if given == PASSWORD else real(given)
    try:
        yield
    finally:
        passwords.hash_password = real


def settings_for(var_dir: Path, database_url: str) -> Settings:
    """Settings for a throwaway installation (fixed keys: nothing here is secret)."""
    return Settings(
        var_dir=var_dir,
        database_url=database_url,
        secret_key="bench-" + "x" * 40,
        data_keys="b1:" + base64.b64encode(b"b" * 32).decode(),
    )


def environment_for(settings: Settings) -> dict[str, str]:
    """The INTAKE_* variables that make a child process use `settings`."""
    return {
        "INTAKE_VAR_DIR": str(settings.var_dir),
        "INTAKE_DATABASE_URL": settings.database_url,
        "INTAKE_SECRET_KEY": settings.secret_key,
        "INTAKE_DATA_KEYS": settings.data_keys,
    }


def _schema_url(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@contextmanager
def postgres_schema(base_url: str, suffix: str = "") -> Iterator[str]:
    """A fresh schema in the given PostgreSQL database, dropped on exit; yields its URL."""
    schema = f"intake_bench_{os.getpid()}{suffix}"
    admin = make_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _schema_url(base_url, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def prepare(database_url: str) -> Engine:
    """Migrate an empty database and publish the shipped forms and tracks."""
    migrate.upgrade(url=database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as db:
        definitions.sync_files(db=db)
    return engine


def make_user(db: Session, *, organisation: str, role: str, username: str) -> User:
    """A user with the bench password, through the accounts service."""
    org = accounts.get_or_create_organisation(db=db, name=organisation)
    user, _secret = accounts.create_user(
        db=db,
        username=username,
        display_name=username,
        role=role,
        organisation=org,
        password=PASSWORD,
    )
    return user


@dataclass(frozen=True)
class Workforce:
    """Organisations with their supervisor and outreach workers."""

    supervisors: dict[str, User]
    workers: dict[str, list[User]]


def make_workforce(db: Session, *, organisations: int, workers_each: int) -> Workforce:
    """`organisations` organisations, each with one supervisor and `workers_each` workers."""
    supervisors, workers = {}, {}
    with one_hash_for_the_bench_password():
        for n in range(organisations):
            name = f"Bench organisation {n + 1}"
            supervisors[name] = make_user(
                db, organisation=name, role="supervisor", username=f"bench.sup{n + 1}"
            )
            workers[name] = [
                make_user(
                    db,
                    organisation=name,
                    role="outreach_worker",
                    username=f"bench.w{n + 1}.{k + 1}",
                )
                for k in range(workers_each)
            ]
    return Workforce(supervisors, workers)


def _stage_mix(db: Session) -> list[tuple[str, str, str, bool, float]]:
    """(version id, track, state, final, weight) for every state of the shipped tracks."""
    mix = []
    for version, workflow in definitions.current_workflows(db=db):
        share = 0.85 if workflow.is_catch_all else 0.15
        names = list(workflow.states)
        for position, (name, state) in enumerate(workflow.states.items()):
            # Most open cases sit early in the track; a third of all cases are closed.
            if state.final:
                weight = 0.35
            elif name.startswith("contact_lost"):
                weight = 0.02
            else:
                weight = 0.6 / (position + 1)
            mix.append((version.id, workflow.id, name, state.final, share * weight / len(names)))
    return mix


def insert_cases(
    engine: Engine,
    *,
    count: int,
    workforce: Workforce,
    weights: Sequence[float],
    now: dt.datetime,
    seed: int,
    batch: int = 5_000,
) -> None:
    """Insert `count` cases directly (SQLAlchemy core), spread over organisations by `weights`.

    Last activity is spread over two years, skewed towards the recent past (as
    a caseload is: most activity is on recent cases); creation comes before it.
    """
    rng = random.Random(seed)
    with make_session_factory(engine)() as db:
        mix = _stage_mix(db)
    names = list(workforce.workers)
    stage_weights = [m[4] for m in mix]
    table = Case.__table__
    with engine.begin() as conn:
        rows = []
        for _ in range(count):
            org = rng.choices(names, weights=weights)[0]
            owner = rng.choice(workforce.workers[org])
            version_id, track, state, final, _w = rng.choices(mix, weights=stage_weights)[0]
            activity = now - dt.timedelta(days=730 * rng.random() ** 2, seconds=rng.random())
            created = activity - dt.timedelta(days=rng.uniform(0, 120))
            entered = activity - dt.timedelta(days=rng.uniform(0, 40))
            rows.append(
                {
                    "id": secrets.token_hex(16),
                    "reference": secrets.token_hex(6).upper(),
                    "organisation_id": owner.organisation_id,
                    "owner_id": owner.id,
                    "workflow_version_id": version_id,
                    "track": track,
                    "state": state,
                    "state_entered_at": max(entered, created),
                    "created_at": created,
                    "last_activity_at": activity,
                    "closed_at": activity if final else None,
                    "fingerprint": None,
                    "row_version": 1,
                }
            )
            if len(rows) == batch:
                conn.execute(insert(table), rows)
                rows = []
        if rows:
            conn.execute(insert(table), rows)


def analyze(engine: Engine) -> None:
    """Refresh the planner's statistics (PostgreSQL's autovacuum would; SQLite never does)."""
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def count_cases(engine: Engine) -> int:
    """Cases in the database."""
    with engine.connect() as conn:
        return conn.execute(select(sqlalchemy.func.count()).select_from(Case)).scalar_one()


def versions(engine: Engine | None = None) -> str:
    """Python, SQLAlchemy, SQLite (and PostgreSQL when given) versions, and the CPU count."""
    import sqlite3

    parts = [
        f"Python {sys.version.split()[0]}",
        f"SQLAlchemy {sqlalchemy.__version__}",
        f"SQLite {sqlite3.sqlite_version}",
    ]
    if engine is not None and engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            parts.append(
                "PostgreSQL " + conn.exec_driver_sql("SHOW server_version").scalar_one().split()[0]
            )
    parts.append(f"{os.cpu_count()} CPUs, {platform.machine()}")
    return ", ".join(parts)
