"""Does the case list stay fast as cases pile up? 1,000 cases against 100,000, in one run.

Run from the repository root:  python bench/case_list.py [--repeats N]
With INTAKE_BENCH_DATABASE_URL=postgresql://... it also runs on PostgreSQL, in a
schema of its own that is dropped afterwards.

Cases are inserted directly (SQLAlchemy core) over five organisations of unequal
size, eight outreach workers each, with last activity spread over two years and
a third of the cases closed: one database of each size, timed in alternation so
that other load on the machine hits both alike. What is timed is the caseload
service as GET /cases calls it (intake.cases.caseload.page): the cases a user
may see, newest activity first, 25 a page with the count capped at 1,000, a
later page found by keyset (never OFFSET), rows turned into what the list shows.
Each figure is the median of repeated runs. The supervisor dashboard is timed too, for
information (it has no target). Target: at 100,000 cases the page is at most
1.5 times slower than at 1,000. The query
plans at 100,000 cases are printed, to show which index serves each query.
Figures go into bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _seed  # the helpers beside this script
from sqlalchemy import Select, tuple_
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import caseload, dashboard, stage_counts
from intake.cases.models import Case
from intake.db import make_session_factory, utcnow

# The later page starts after this many rows: page 11 for the supervisor of the
# largest organisation, page 2 for one of its workers (each has about 50 cases
# at the smaller size).
DEPTH = 250
WORKER_DEPTH = 25
SIZES = (1_000, 100_000)
ORGANISATION_SHARES = (0.4, 0.25, 0.15, 0.1, 0.1)
WORKERS_EACH = 8
TARGET_RATIO = 1.5


def _pages_to(db: Session, user: User, tab: caseload.Tab, depth: int) -> str:
    """The cursor of the page that starts after row `depth`, found by paging as a person does."""
    cursor = ""
    for _ in range(depth // caseload.PAGE_SIZE):
        found = caseload.page(
            db=db, user=user, filters=caseload.Filters(tab=tab), after=cursor, now=utcnow()
        )
        assert found.next_cursor is not None, "too few cases for this depth"
        cursor = found.next_cursor
    return cursor


def list_query(db: Session, user: User, tab: caseload.Tab, cursor: str = "") -> Select[Case]:
    """The query caseload.page runs for one page (for EXPLAIN)."""
    query, _bad = caseload.filtered(
        db=db, user=user, filters=caseload.Filters(tab=tab), now=utcnow()
    )
    position = caseload.decode_cursor(cursor)
    if position is not None:
        query = query.where(tuple_(Case.last_activity_at, Case.id) < tuple_(*position))
    order = (Case.last_activity_at.desc(), Case.id.desc())
    return query.order_by(*order).limit(caseload.PAGE_SIZE + 1)


def _timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _users(db: Session, ids: dict[str, str]) -> tuple[User, User]:
    supervisor, worker = db.get(User, ids["supervisor"]), db.get(User, ids["worker"])
    assert supervisor is not None and worker is not None
    return supervisor, worker


def queries(
    db: Session, ids: dict[str, str], timezone: str = "UTC"
) -> dict[str, Callable[[], object]]:
    """The timed calls, bound to one database's users."""
    supervisor, worker = _users(db, ids)
    cursor = _pages_to(db, supervisor, "organisation", DEPTH)
    worker_cursor = _pages_to(db, worker, "mine", WORKER_DEPTH)
    now = utcnow()

    def page(user: User, tab: caseload.Tab, after: str = "") -> Callable[[], object]:
        filters = caseload.Filters(tab=tab)
        return lambda: caseload.page(db=db, user=user, filters=filters, after=after, now=now)

    def count(user: User, tab: caseload.Tab) -> Callable[[], object]:
        query, _bad = caseload.filtered(
            db=db, user=user, filters=caseload.Filters(tab=tab), now=now
        )
        return lambda: caseload.capped_count(db=db, query=query)

    return {
        "supervisor, organisation's cases, first page": page(supervisor, "organisation"),
        f"supervisor, page after row {DEPTH} (keyset)": page(supervisor, "organisation", cursor),
        "  of which the count (capped at 1,000)": count(supervisor, "organisation"),
        "outreach worker, my cases, first page": page(worker, "mine"),
        f"outreach worker, page after row {WORKER_DEPTH} (keyset)": page(
            worker, "mine", worker_cursor
        ),
        "supervisor dashboard (all figures)": lambda: dashboard.dashboard(
            db=db, user=supervisor, now=now, timezone=timezone
        ),
    }


def measure(
    small: dict[str, Callable[[], object]], large: dict[str, Callable[[], object]], repeats: int
) -> dict[str, tuple[float, float]]:
    """Median milliseconds of each query on both databases, runs interleaved.

    Small and large runs alternate, so a neighbour's load on the machine slows
    both alike instead of skewing the ratio.
    """
    results = {}
    for name in small:
        small[name](), large[name]()  # warm caches and statement caches, as a server has them
        times: tuple[list[float], list[float]] = ([], [])
        for _ in range(repeats):
            times[0].append(_timed(small[name]))
            times[1].append(_timed(large[name]))
        results[name] = (statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000)
    return results


def _driver_value(value: Any, dialect: str) -> Any:
    if isinstance(value, dt.datetime) and dialect == "sqlite":
        # What SQLAlchemy's SQLite DateTime stores: the plan does not depend on it.
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def explain(engine: Engine, query: Select[Case]) -> str:
    """The database's own query plan (PostgreSQL: EXPLAIN ANALYZE, run for real)."""
    compiled = query.compile(dialect=engine.dialect)
    name = engine.dialect.name
    params = compiled.params
    with engine.connect() as conn:
        if name == "sqlite":
            values = tuple(_driver_value(params[p], name) for p in compiled.positiontup or ())
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values).all()
            return "\n".join(f"  {row[-1]}" for row in rows)
        values_map = {k: _driver_value(v, name) for k, v in params.items()}
        rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, COSTS OFF) {compiled}", values_map).all()
        return "\n".join(f"  {row[0]}" for row in rows)


def seed(database_url: str, size: int, label: str) -> tuple[Engine, dict[str, str]]:
    """A database with `size` cases; the ids of the users whose pages are timed."""
    engine = _seed.prepare(database_url)
    with make_session_factory(engine)() as db:
        workforce = _seed.make_workforce(
            db, organisations=len(ORGANISATION_SHARES), workers_each=WORKERS_EACH
        )
    biggest = next(iter(workforce.supervisors))
    ids = {
        "supervisor": workforce.supervisors[biggest].id,
        "worker": workforce.workers[biggest][0].id,
    }
    started = time.perf_counter()
    _seed.insert_cases(
        engine,
        count=size,
        workforce=workforce,
        weights=ORGANISATION_SHARES,
        now=utcnow(),
        seed=size,
    )
    with make_session_factory(engine)() as db:
        # Bulk-inserted cases bypass record_case_event: the dashboard's counts, as migrated.
        stage_counts.rebuild(db=db)
        db.commit()
    _seed.analyze(engine)
    assert _seed.count_cases(engine) == size
    seconds = time.perf_counter() - started
    print(f"[{label}] {size:,} cases seeded in {seconds:.1f} s", file=sys.stderr)
    return engine, ids


def run(urls: tuple[str, str], label: str, repeats: int) -> None:
    """Seed one database per size, time the queries interleaved, print the table and plans."""
    (small_engine, small_ids), (large_engine, large_ids) = (
        seed(url, size, label) for url, size in zip(urls, SIZES, strict=True)
    )
    small, large = SIZES
    factory_small, factory_large = (make_session_factory(e) for e in (small_engine, large_engine))
    with factory_small() as db_small, factory_large() as db_large:
        figures = measure(queries(db_small, small_ids), queries(db_large, large_ids), repeats)
        supervisor, worker = _users(db_large, large_ids)
        cursor = _pages_to(db_large, supervisor, "organisation", DEPTH)
        worker_cursor = _pages_to(db_large, worker, "mine", WORKER_DEPTH)
        count_query, _bad = caseload.filtered(
            db=db_large, user=supervisor, filters=caseload.Filters(tab="organisation"), now=utcnow()
        )
        limited = count_query.with_only_columns(Case.id).order_by(None)
        plans = (
            ("supervisor, first page", list_query(db_large, supervisor, "organisation")),
            ("supervisor, keyset page", list_query(db_large, supervisor, "organisation", cursor)),
            ("supervisor, count", limited.limit(caseload.COUNT_CAP + 1)),
            ("outreach worker, keyset page", list_query(db_large, worker, "mine", worker_cursor)),
        )
    print(f"\n### {label}: {_seed.versions(large_engine)}\n")
    print(f"{repeats} runs of each, medians, interleaved\n")
    print(f"| query | {small:,} cases | {large:,} cases | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for name, (a, b) in figures.items():
        flag = "" if b / a <= TARGET_RATIO or "dashboard" in name else " (over target)"
        print(f"| {name} | {a:.2f} ms | {b:.2f} ms | {b / a:.2f}x{flag} |")
    print(f"\nPlans at {large:,} cases:\n")
    for name, query in plans:
        print(f"{name}:\n{explain(large_engine, query)}\n")
    small_engine.dispose()
    large_engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        files = tuple(f"sqlite:///{Path(folder) / f'bench{size}.sqlite3'}" for size in SIZES)
        run((files[0], files[1]), "SQLite", args.repeats)
    pg = os.environ.get("INTAKE_BENCH_DATABASE_URL", "")
    if pg:
        with (
            _seed.postgres_schema(pg, "_small") as small,
            _seed.postgres_schema(pg, "_large") as large,
        ):
            run((small, large), "PostgreSQL", args.repeats)
    else:
        print("\n(PostgreSQL skipped: set INTAKE_BENCH_DATABASE_URL to include it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
