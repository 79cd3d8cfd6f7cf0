"""Services delivered as the case page and its timeline show them.

Anyone who sees the case sees what was given, when and by whom; a record's note
is opened only for a reader with need to know (the case's team, its supervisors).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases import team
from intake.cases.models import Case
from intake.cases.notes import may_read_sensitive
from intake.cases.service_records import (
    ORGANISATION,
    REFERRED,
    TEAM_MEMBER,
    ServiceRecord,
    note_context,
    partner_organisations,
)
from intake.cases.service_words import quantity_text, service_label
from intake.config import Settings
from intake.filling.drafts import new_client_id
from intake.forms.storage import keyring_for
from intake.i18n import gettext as _
from intake.security.field_crypto import FieldCryptoError, decrypt_value
from intake.workflow.services import shipped_catalogue

# The page lists the newest records; the totals count them all.
SHOWN_RECORDS = 20


@dataclass(frozen=True)
class ServiceChoice:
    """A service type a person can record: its code, label and what its quantity counts."""

    code: str
    label: str
    unit: str


@dataclass(frozen=True)
class ServiceLine:
    """One record as a reader sees it."""

    id: str
    delivered_on: dt.date
    recorded_at: dt.datetime
    service: str
    quantity: str
    provider: str
    recorded_by: str
    recorded_by_role: str
    note: str


@dataclass(frozen=True)
class ServicesSection:
    """Everything cases/_services.html shows."""

    can_record: bool
    choices: list[ServiceChoice]
    providers: list[tuple[str, str]]
    totals: list[tuple[str, str]]
    records: list[ServiceLine]
    count: int
    client_id: str
    today: dt.date


def _unit_hint(unit: str) -> str:
    hints = {
        "eur": _("euros"),
        "night": _("nights"),
        "session": _("sessions"),
        "trip": _("trips"),
        "hour": _("hours"),
        "meal": _("meals"),
        "package": _("packages"),
    }
    return hints.get(unit, _("items"))


def choices() -> list[ServiceChoice]:
    """Every service type of the catalogue, in its order, in the reader's language."""
    return [
        ServiceChoice(code, service_label(code), _unit_hint(kind.unit))
        for code, kind in shipped_catalogue().types.items()
    ]


def providers(*, db: Session, case: Case, user: User) -> list[tuple[str, str]]:
    """(value, label) of who may be named as the provider; the reader first if on the team."""
    # One person may hold several functions: named once, the reader first (the default).
    members = {m.user_id: m.display_name for m in team.active_team(db=db, case=case)}
    people = [(f"{TEAM_MEMBER}:{ident}", name) for ident, name in members.items()]
    people.sort(key=lambda option: option[0] != f"{TEAM_MEMBER}:{user.id}")
    options = [(ORGANISATION, _("Our organisation"))]
    options = people[:1] + options + people[1:] if user.id in members else options + people
    options += [
        (f"{REFERRED}:{ident}", _("%(organisation)s (another organisation)", organisation=name))
        for ident, name in partner_organisations(db=db, case=case)
    ]
    return options


def service_lines(
    *, db: Session, settings: Settings, case: Case, with_notes: bool, limit: int | None = None
) -> list[ServiceLine]:
    """The case's records, newest first; notes opened only `with_notes`."""
    query = (
        select(ServiceRecord)
        .where(ServiceRecord.case_id == case.id)
        .order_by(ServiceRecord.delivered_on.desc(), ServiceRecord.created_at.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    rows = list(db.execute(query).scalars())
    user_ids = {r.recorded_by_id for r in rows} | {r.provider_user_id or "" for r in rows}
    found = db.execute(
        select(User.id, User.display_name, User.role).where(User.id.in_(user_ids))
    ).all()
    people = {ident: name for ident, name, _role in found}
    roles = {ident: role for ident, _name, role in found}
    org_ids = {r.provider_organisation_id or "" for r in rows}
    orgs = {
        ident: name
        for ident, name in db.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))
        ).all()
    }
    keyring = keyring_for(settings) if with_notes else None
    lines = []
    for row in rows:
        note = ""
        if keyring is not None and row.sealed_note:
            try:
                note = decrypt_value(
                    keyring=keyring, token=row.sealed_note, context=note_context(row.id)
                )
            except FieldCryptoError:
                note = _("This note cannot be read.")
        lines.append(
            ServiceLine(
                id=row.id,
                delivered_on=row.delivered_on,
                recorded_at=row.created_at,
                service=service_label(row.service_type),
                quantity=quantity_text(row.unit, row.quantity),
                provider=_provider_name(row, people, orgs),
                recorded_by=people.get(row.recorded_by_id, ""),
                recorded_by_role=roles.get(row.recorded_by_id, ""),
                note=note,
            )
        )
    return lines


def _provider_name(row: ServiceRecord, people: dict[str, str], orgs: dict[str, str]) -> str:
    if row.provided_by == TEAM_MEMBER and row.provider_user_id:
        return people.get(row.provider_user_id, "")
    if row.provided_by == REFERRED and row.provider_organisation_id:
        return orgs.get(row.provider_organisation_id, "")
    return _("Our organisation")


def totals(*, db: Session, case: Case) -> list[tuple[str, str]]:
    """(service, quantity) given on the case so far, in the catalogue's order."""
    rows = db.execute(
        select(ServiceRecord.service_type, ServiceRecord.unit, func.sum(ServiceRecord.quantity))
        .where(ServiceRecord.case_id == case.id)
        .group_by(ServiceRecord.service_type, ServiceRecord.unit)
    ).all()
    order = {code: index for index, code in enumerate(shipped_catalogue().types)}
    rows = sorted(rows, key=lambda r: (order.get(r[0], len(order)), r[0]))
    return [
        (service_label(code), quantity_text(unit, int(total or 0))) for code, unit, total in rows
    ]


def services_section(
    *, db: Session, settings: Settings, case: Case, user: User, today: dt.date
) -> ServicesSection:
    """The case page's services: the form for those who may record, the totals, the latest."""
    need_to_know = may_read_sensitive(db=db, user=user, case=case)
    can_record = need_to_know and case.closed_at is None
    count = db.execute(
        select(func.count()).select_from(ServiceRecord).where(ServiceRecord.case_id == case.id)
    ).scalar_one()
    return ServicesSection(
        can_record=can_record,
        choices=choices() if can_record else [],
        providers=providers(db=db, case=case, user=user) if can_record else [],
        totals=totals(db=db, case=case),
        records=service_lines(
            db=db, settings=settings, case=case, with_notes=need_to_know, limit=SHOWN_RECORDS
        ),
        count=count,
        client_id=new_client_id(),
        today=today,
    )
