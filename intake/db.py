"""Engine, sessions and the declarative base."""

from __future__ import annotations

import contextvars
import datetime as dt
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as SqlTimeout
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Every table of the application."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ServerBusy(Exception):
    """A bounded wait ran out (SQLite's write lock, a PostgreSQL connection, a slot for a
    password check): the request is answered 503 with Retry-After; nothing was changed."""


# Set for requests that change state (intake.middleware.WriteDiscipline); a
# transaction begun while it is set takes SQLite's write lock up front.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "intake_write_intent", default=False
)
# How long a transaction begun now may wait for the write lock (None: the engine's bound).
write_wait: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "intake_write_wait", default=None
)

_HOLDS_GATE = "intake_holds_write_gate"


class _WriteGate:
    """SQLite's one writer, as a lock in this process held from BEGIN IMMEDIATE to the end of
    that transaction, and never longer: waiting writers queue here with a bound instead of
    inside SQLite, and CPU work done outside a write transaction holds nothing."""

    def __init__(self, wait_seconds: float) -> None:
        self.lock = threading.Lock()
        self.wait_seconds = wait_seconds

    def begin(self, conn: Connection) -> None:
        if not write_intent.get():
            conn.exec_driver_sql("BEGIN")
            return
        wait = write_wait.get()
        if not self.lock.acquire(timeout=self.wait_seconds if wait is None else wait):
            raise ServerBusy
        conn.info[_HOLDS_GATE] = self
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except Exception:
            self.end(conn)
            raise

    @staticmethod
    def end(conn: Any) -> None:
        gate = conn.info.pop(_HOLDS_GATE, None)
        if gate is not None:
            gate.lock.release()


def make_engine(url: str, *, write_wait_seconds: float = 5.0, pool_size: int = 40) -> Engine:
    """An engine for SQLite (the embedded default) or PostgreSQL, with the write discipline."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, write_wait_seconds, pool_size)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # One connection per worker thread: a request's database work runs in one thread
    # call and returns its connection at the end of its transaction, so waiting for a
    # connection means the server is saturated: answered 503 after the bound.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=write_wait_seconds,
    )


def _sqlite_engine(url: str, write_wait_seconds: float, pool_size: int) -> Engine:
    kwargs: dict[str, Any] = {}
    if ":memory:" not in url:
        # Pooled, one per worker thread: opening a file connection costs its pragmas and
        # a read of the schema (about a tenth of a request's time under load, profiled).
        # A returned connection is rolled back, so a closed session holds no lock.
        kwargs.update(
            poolclass=QueuePool,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=write_wait_seconds,
        )
    engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
    gate = _WriteGate(write_wait_seconds)
    busy_ms = int(write_wait_seconds * 1000)

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's
        # documented fix is to turn it off and emit BEGIN ourselves (gate.begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets readers go on while one writer commits; busy_timeout bounds the
        # wait for a writer of another process (the gate orders this process's own).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    event.listen(engine, "connect", pragmas)
    event.listen(engine, "begin", gate.begin)
    # The commit event fires just before COMMIT runs; a next writer's BEGIN
    # IMMEDIATE waits those microseconds on busy_timeout.
    event.listen(engine, "commit", _WriteGate.end)
    event.listen(engine, "rollback", _WriteGate.end)
    # A connection closed or returned without commit or rollback still lets go.
    event.listen(engine.pool, "reset", lambda _c, record, _s: _WriteGate.end(record))
    event.listen(engine.pool, "close", lambda _c, record: _WriteGate.end(record))
    return engine


def is_busy_error(exc: BaseException) -> bool:
    """Whether `exc` means the database was busy (a bounded wait ran out), not broken."""
    if isinstance(exc, ServerBusy | SqlTimeout):
        return True
    return isinstance(exc, OperationalError) and "locked" in str(exc)


async def reads_only() -> None:
    """A route dependency for a POST that changes nothing (a check, a preview): its
    transactions take no write lock, so its slow work holds nobody up."""
    write_intent.set(False)


ReadsOnly = Depends(reads_only)


@contextmanager
def read_transaction(db: Session) -> Iterator[None]:
    """A lookup in a transaction of its own that takes no write lock, ended at exit."""
    if db.in_transaction():
        db.commit()
    token = write_intent.set(False)
    try:
        yield
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        write_intent.reset(token)


@contextmanager
def write_transaction(db: Session, *, wait_seconds: float | None = None) -> Iterator[None]:
    """A short write transaction (any lookup before it is ended first), committed at exit."""
    if db.in_transaction():
        db.commit()
    intent, wait = write_intent.set(True), write_wait.set(wait_seconds)
    try:
        yield
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        write_intent.reset(intent)
        write_wait.reset(wait)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded rows usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One database session per request, closed as soon as the route returns.

    Closing happens here on the event loop (ending a transaction is quick), not in
    another worker thread: a request holding SQLite's write lock never waits for a
    free thread to let go of it."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_db, scope="function")]


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A moment stored in UTC and always read back time-zone aware (SQLite forgets it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """The current moment, time-zone aware."""
    return dt.datetime.now(dt.UTC)


def new_id() -> str:
    """An opaque random identifier (128 bits) for rows named in URLs."""
    return uuid.uuid4().hex
