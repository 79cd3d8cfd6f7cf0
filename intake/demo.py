"""Demo organisations and one user per role, for trying the product on a laptop."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from intake.accounts import service as accounts
from intake.statistics.models import ReportingAgreement

DEMO_ORGANISATIONS = [
    ("Demo NGO Vilnius", "ngo", "LT"),
    ("Demo Municipality Kaunas", "municipality", "LT"),
    # A national coordinator: both demo organisations report their anonymised figures to it.
    ("Demo National Coordinator", "coordination", "LT"),
]

DEMO_USERS = [
    ("outreach", "Outreach Worker", "outreach_worker", "Demo NGO Vilnius"),
    ("supervisor", "Supervisor", "supervisor", "Demo NGO Vilnius"),
    ("admin", "Administrator", "admin", "Demo NGO Vilnius"),
    ("kaunas", "Kaunas Supervisor", "supervisor", "Demo Municipality Kaunas"),
    ("kaunas-admin", "Kaunas Administrator", "admin", "Demo Municipality Kaunas"),
    # Organisations and their administrators only; sees no case and no other user.
    ("installation", "Installation Administrator", "installation_admin", "Demo NGO Vilnius"),
    # Anonymised statistics of the organisations that report to the body; no case at all.
    ("coordinator", "National Coordinator", "coordinator", "Demo National Coordinator"),
]


class RealUsersExist(Exception):
    """The database already has users: seeding would mix demo and real accounts."""


def _password() -> str:
    words = secrets.token_urlsafe(12)
    return f"demo-{words}"


def seed(*, db: Session) -> list[tuple[str, str, str, str]]:
    """Create the demo rows; returns (username, role, organisation, password) once."""
    if accounts.count_users(db=db):
        raise RealUsersExist
    orgs = {
        name: accounts.get_or_create_organisation(db=db, name=name, kind=kind, country=country)
        for name, kind, country in DEMO_ORGANISATIONS
    }
    created = []
    for username, display, role, org in DEMO_USERS:
        password = _password()
        accounts.create_user(
            db=db,
            username=username,
            display_name=display,
            role=role,
            organisation=orgs[org],
            password=password,
        )
        created.append((username, role, org, password))
    body = orgs["Demo National Coordinator"]
    for name, kind, _country in DEMO_ORGANISATIONS:
        if kind != "coordination":
            db.add(ReportingAgreement(coordinator_id=body.id, reporting_id=orgs[name].id))
    db.commit()
    return created
