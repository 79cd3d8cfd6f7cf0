"""Engine, sessions and the declarative base."""

from __future__ import annotations

import contextvars
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
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


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for SQLite (the embedded default) or PostgreSQL."""
    if url.startswith("sqlite"):
        if ":memory:" not in url:
            # A connection waiting for SQLite's write lock would hold a pool slot;
            # opening a file connection is cheap, so none are pooled.
            kwargs.setdefault("poolclass", NullPool)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's
        # documented fix is to turn it off and emit BEGIN ourselves.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, **kwargs)


# Set for requests that change state (see intake.middleware.SqliteConcurrency).
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "intake_write_intent", default=False
)


def _sqlite_begin(conn: Connection) -> None:
    # A transaction that reads and then writes fails at once with "database is
    # locked" when another writer committed in between: waiting cannot help
    # it. Requests that change state therefore take SQLite's single write lock
    # up front (IMMEDIATE) and queue on busy_timeout; reading requests begin
    # deferred so they run side by side under WAL.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers go on while one writer commits; busy_timeout makes a
    # second writer wait instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded rows usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def get_db(request: Request) -> Iterator[Session]:
    """One database session per request, rolled back if the request fails."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        try:
            yield session
        except Exception:
            session.rollback()
            raise


DbSession = Annotated[Session, Depends(get_db)]


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
