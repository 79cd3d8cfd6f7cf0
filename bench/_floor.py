"""The floor for bench/load.py: a bare Starlette app doing one insert per POST.

What the machine can do with the same uvicorn, the same database and the same HTTP
traffic, and nothing else: each POST reads its body and inserts it as one
submission-sized row in one transaction (SQLite in WAL with BEGIN IMMEDIATE, or
PostgreSQL with one pooled connection per worker thread). No session, no CSRF, no
template. Served by `uvicorn --factory _floor:create_app` with FLOOR_DATABASE_URL set.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

TABLE = "floor_submissions"
_local = threading.local()
_writer = threading.Lock()


def _connect(url: str) -> Any:
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))


def prepare(url: str) -> None:
    """Create the floor's one table (run once, before the server starts)."""
    conn = _connect(url)
    sql = (
        f"CREATE TABLE IF NOT EXISTS {TABLE} "
        "(id varchar(32) PRIMARY KEY, client_id varchar(64), body text, created_at float)"
    )
    conn.execute(sql)
    conn.commit()
    conn.close()


def _insert(url: str, client_id: str, body: str) -> None:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = _connect(url)
    import time

    row = (uuid.uuid4().hex, client_id, body, time.time())
    if isinstance(conn, sqlite3.Connection):
        # Writers queue on a lock in the process (as the application's do), not in
        # SQLite's busy handler, whose sleeps would make the floor slower than it is.
        with _writer:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?)", row)
            conn.execute("COMMIT")
    else:
        conn.execute(f"INSERT INTO {TABLE} VALUES (%s, %s, %s, %s)", row)
        conn.commit()


def create_app() -> Starlette:
    """The floor application."""
    url = os.environ["FLOOR_DATABASE_URL"]

    async def submit(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        body = (await request.body()).decode("utf-8", "replace")
        await run_in_threadpool(_insert, url, request.headers.get("x-client-id", ""), body)
        return Response(status_code=303, headers={"location": "/"})

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/", submit, methods=["POST"]), Route("/healthz", healthz)])
