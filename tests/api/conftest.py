"""Fixtures for the JSON API: the shipped definitions, tokens made through the service."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts import tokens
from intake.accounts.models import User
from intake.audit.models import AuditEvent
from intake.definitions import service as definitions
from intake.filling.drafts import new_client_id
from tests.cases.flow import MEETING, SITUATION, WOMAN


@pytest.fixture(autouse=True)
def shipped_definitions(db: Session) -> None:
    definitions.sync_files(db=db)


def make_token(
    db: Session, user: User, scopes: list[str] | None = None, days: int = 30, name: str = "sync"
) -> str:
    """A token's secret, made as the account page makes it."""
    chosen = tokens.scopes_for(user) if scopes is None else scopes
    return tokens.create_token(db=db, user=user, name=name, scopes=chosen, days=days).secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def first_contact(**changes: Any) -> dict[str, Any]:
    """A whole, valid first-contact filling for the API (with sensitive answers)."""
    answers = {**MEETING, **SITUATION, **WOMAN, **changes}
    return {"client_id": new_client_id(), "form": "first_contact", "answers": answers}


def audit_rows(db: Session, action: str) -> list[AuditEvent]:
    db.expire_all()
    return list(
        db.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).scalars()
    )
