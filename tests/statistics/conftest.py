"""Statistics tests: the shipped definitions published, a coordinating body and its coordinator."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from tests.cases.helpers import publish_shipped
from tests.conftest import make_user

from .helpers import coordination_body


@pytest.fixture(autouse=True)
def shipped_definitions(request: pytest.FixtureRequest) -> None:
    # Only tests with a database (the suppression tests are pure and run once).
    if "db" in request.fixturenames:
        publish_shipped(request.getfixturevalue("db"))


@pytest.fixture
def body(db: Session) -> Organisation:
    return coordination_body(db)


@pytest.fixture
def coordinator(db: Session, body: Organisation) -> User:
    return make_user(db, body, "coordinator", "coordinator-1")
