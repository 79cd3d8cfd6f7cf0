"""Fixtures for referral tests: the shipped definitions are published in every test."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.cases.helpers import publish_shipped
from tests.referrals.helpers import world  # noqa: F401 (a fixture of every referral test)


@pytest.fixture(autouse=True)
def shipped_definitions(db: Session) -> None:
    publish_shipped(db)
