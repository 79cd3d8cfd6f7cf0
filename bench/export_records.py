"""Does an export of a very large organisation stay in constant memory? 100,000 cases.

Run from the repository root:  python bench/export_records.py [--cases N]
With INTAKE_BENCH_DATABASE_URL=postgresql://... it runs on PostgreSQL instead, in a
schema of its own that is dropped afterwards.

One organisation with N cases, each with an intake filling whose coded answers (gender,
age, nationality, types of exploitation, means of control, needs) are drawn at random,
inserted directly (SQLAlchemy core). Then, as the routes call them, for the
organisation's supervisor: the anonymised record export in CTDC's layout as CSV and as
XLSX (k-anonymity plan, then both passes in a snapshot of their own, streamed), and the
statistics page's figures (every table protected). Each is run twice: once for the wall
time, once under tracemalloc for the peak of Python memory while the body is consumed
(the bytes are counted and dropped, as a server sends them). The figures go into
bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import _seed  # the helpers beside this script
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from intake.cases.models import Case
from intake.config import Settings
from intake.db import make_session_factory, utcnow
from intake.definitions import service as definitions
from intake.filling.models import Submission
from intake.statistics import exports
from intake.statistics.figures import Filters, coordinator_figures

GENDERS = ("female", "female", "male", "other", "unknown")
NATIONALITIES = ("ukraine", "moldova", "vietnam", "nigeria", "romania", "lithuania", "unknown")
EXPLOITATION = ("sexual", "labour", "criminality", "begging", "marriage", "domestic")
CONTROL = ("debt_bondage", "threats", "withholds_documents", "false_promises")
NEEDS = ("safety", "medical", "food", "shelter", "legal")


def insert_intakes(engine: Engine, *, seed: int, batch: int = 5_000) -> None:
    """One intake filling with random coded answers for every case."""
    rng = random.Random(seed)
    with make_session_factory(engine)() as db:
        version = definitions.latest(db=db, kind="form", key="first_contact")
        assert version is not None
        cases = db.execute(select(Case.id, Case.organisation_id, Case.owner_id, Case.created_at))
        rows = []
        with engine.begin() as conn:
            for case_id, organisation_id, owner_id, created in cases:
                rows.append(
                    {
                        "id": secrets.token_hex(16),
                        "client_id": secrets.token_hex(16),
                        "answers_digest": "0" * 64,
                        "form_version_id": version.id,
                        "form_key": "first_contact",
                        "case_id": case_id,
                        "organisation_id": organisation_id,
                        "submitted_by_id": owner_id,
                        "language": "en",
                        "submitted_at": created,
                        "answers": {
                            "gender": rng.choice(GENDERS),
                            "age_years": rng.randint(8, 70),
                            "nationality": rng.choice(NATIONALITIES),
                            "exploitation_type": rng.sample(EXPLOITATION, rng.randint(0, 2)),
                            "means_of_control": rng.sample(CONTROL, rng.randint(0, 2)),
                            "immediate_needs": rng.sample(NEEDS, rng.randint(1, 3)),
                            "given_name": "v1:sealed-in-real-life",
                        },
                    }
                )
                if len(rows) == batch:
                    conn.execute(insert(Submission), rows)
                    rows = []
            if rows:
                conn.execute(insert(Submission), rows)


def _measure(run: Callable[[], int]) -> tuple[float, float, int]:
    """Wall seconds, then peak MiB of Python allocations in a second run, and its result."""
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    run()
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20, result


def bench(database_url: str, settings: Settings, count: int) -> None:
    engine = _seed.prepare(database_url)
    factory = make_session_factory(engine)
    with factory() as db:
        workforce = _seed.make_workforce(db, organisations=1, workers_each=4)
        supervisor = next(iter(workforce.supervisors.values()))
    started = time.perf_counter()
    _seed.insert_cases(
        engine, count=count, workforce=workforce, weights=[1.0], now=utcnow(), seed=16
    )
    insert_intakes(engine, seed=16)
    _seed.analyze(engine)
    print(f"{_seed.count_cases(engine):,} cases inserted in {time.perf_counter() - started:.0f} s")

    def export(fmt: str) -> Callable[[], int]:
        def run() -> int:
            with factory() as db:
                made, _plan = exports.export_records(
                    db=db, session_factory=factory, user=supervisor, fmt=fmt, settings=settings
                )
                return sum(len(chunk) for chunk in made.body)

        return run

    def page() -> int:
        with factory() as db:
            shown = coordinator_figures(
                db=db, user=supervisor, filters=Filters(), settings=settings
            )
            return len(shown.breakdowns)

    with factory() as db:
        plan = exports.records_plan(db=db, user=supervisor, settings=settings)
    print(
        f"plan: {plan.released:,} rows released, {plan.generalised:,} generalised, "
        f"{plan.suppressed:,} left out (k = {plan.threshold})"
    )
    for name, run in (
        ("records CSV", export("csv")),
        ("records XLSX", export("xlsx")),
        ("statistics page figures", page),
    ):
        seconds, peak, result = _measure(run)
        size = f"{result / 2**20:.1f} MiB" if name.startswith("records") else f"{result} breakdowns"
        print(f"{name:<24} {seconds:6.1f} s   peak Python memory {peak:6.1f} MiB   ({size})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    args = parser.parse_args()
    print(_seed.versions())
    base = os.environ.get("INTAKE_BENCH_DATABASE_URL", "")
    with tempfile.TemporaryDirectory() as folder:
        var = Path(folder)
        if base:
            with _seed.postgres_schema(base, "_export") as url:
                bench(url, _seed.settings_for(var, url), args.cases)
        else:
            url = f"sqlite:///{var / 'bench.sqlite3'}"
            bench(url, _seed.settings_for(var, url), args.cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
