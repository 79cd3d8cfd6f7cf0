"""Shared fixtures: a real SQLite file and, when INTAKE_TEST_DATABASE_URL is set, a real
PostgreSQL server; every test runs inside a transaction that is rolled back."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from intake import i18n, migrate
from intake.accounts import service as accounts
from intake.accounts.models import Organisation, User
from intake.app import create_app
from intake.config import Settings
from intake.db import make_engine
from intake.security import passwords

PG_URL = os.environ.get("INTAKE_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"]
PASSWORD = "correct horse battery staple"


def make_settings(var_dir: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "var_dir": var_dir,
        "database_url": database_url,
        "secret_key": "test-secret-key-" + "x" * 32,
        "data_keys": "t1:" + base64.b64encode(b"k" * 32).decode(),
        "mode": "development",
        "secure_cookies": False,
        # Tests of other features sign in with a password alone; every test of the second
        # factor (tests/accounts/test_mfa*.py, the browser test) switches it back on, and
        # production refuses to start with it off.
        "mfa_enforced": False,
        # The server's daily retention run; its own test switches it on.
        "retention_daily": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def _postgres_schema_url(url: str, schema: str) -> str:
    # Each test run works in a schema of its own, so runs side by side never
    # see (or drop) each other's tables.
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def _fresh_postgres(url: str, schema: str) -> Engine:
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return make_engine(_postgres_schema_url(url, schema))


def _drop_postgres_schema(url: str, schema: str) -> None:
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(autouse=True, scope="session")
def _hash_the_test_password_once() -> Iterator[None]:
    # argon2id at production strength costs ~0.2 s a hash; fixtures make many
    # users with one password, so its (real) hash is made once and reused.
    # Every other password, and every verification, still runs argon2 in full.
    real = passwords.hash_password
    known = real(PASSWORD)
    patch = pytest.MonkeyPatch()
    patch.setattr(
        passwords,
        "hash_password",
        lambda password: known if password == PASSWORD else real(password),
    )
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _english_by_default() -> Iterator[None]:
    # The locale lives in a context variable; a test that sets it must not leak it.
    i18n.set_locale(i18n.DEFAULT_LOCALE)
    yield
    i18n.set_locale(i18n.DEFAULT_LOCALE)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL tests need INTAKE_TEST_DATABASE_URL")
    return str(request.param)


PG_SCHEMA = f"intake_test_{os.getpid()}"


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if backend == "postgresql":
        return _postgres_schema_url(PG_URL, PG_SCHEMA)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'intake.sqlite3'}"


@pytest.fixture(scope="session")
def engine(database_url: str, backend: str) -> Iterator[Engine]:
    if backend == "postgresql":
        engine = _fresh_postgres(PG_URL, PG_SCHEMA)
    else:
        engine = make_engine(database_url)
    migrate.upgrade(url=database_url)
    yield engine
    engine.dispose()
    if backend == "postgresql":
        _drop_postgres_schema(PG_URL, PG_SCHEMA)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # Services commit; in tests each commit only releases a savepoint of the
    # outer transaction, which is rolled back after the test.
    return sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


# For service calls in tests that seal or open a value and need nothing else of the settings
# (the same data key as the `settings` fixture, so either opens what the other sealed).
SEALING = make_settings(Path("var"), "sqlite://")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "var", database_url)


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]) -> FastAPI:
    application = create_app(settings)
    application.state.engine.dispose()
    application.state.session_factory = session_factory
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def org(db: Session) -> Organisation:
    return accounts.get_or_create_organisation(db=db, name="Org A")


@pytest.fixture
def other_org(db: Session) -> Organisation:
    return accounts.get_or_create_organisation(db=db, name="Org B", kind="municipality")


def make_user(db: Session, org: Organisation, role: str, username: str | None = None) -> User:
    user, _ = accounts.create_user(
        db=db,
        username=username or f"{role}-{org.name}".replace(" ", "").lower(),
        display_name=role.title(),
        role=role,
        organisation=org,
        password=PASSWORD,
    )
    return user


@pytest.fixture
def admin(db: Session, org: Organisation) -> User:
    return make_user(db, org, "admin")


@pytest.fixture
def supervisor(db: Session, org: Organisation) -> User:
    return make_user(db, org, "supervisor")


@pytest.fixture
def worker(db: Session, org: Organisation) -> User:
    return make_user(db, org, "outreach_worker")


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> object:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
    )


def page_token(client: TestClient, path: str = "/") -> str:
    """The CSRF token a signed-in page carries."""
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return csrf_from(response.text)
