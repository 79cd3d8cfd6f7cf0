"""Fixtures for the workflow tests."""

from __future__ import annotations

import pytest

from intake.workflow.compiled import Workflow

from .helpers import shipped


@pytest.fixture(scope="session")
def standard() -> Workflow:
    return shipped("standard")


@pytest.fixture(scope="session")
def young_girls() -> Workflow:
    return shipped("young_girls")
