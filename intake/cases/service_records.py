"""Services delivered on a case: what was given, when, how much, by whom.

A worker records several at once ("3 meals and 1 hygiene kit today") from the case
page. One post is one transaction with one client id: a retry of the same post
is recognised and changes nothing; the same id with other values is a conflict.
The optional note may say where a person sleeps: it is sealed with field_crypto,
bound to its record's id, and read only with need to know.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy import select as sql_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from intake.accounts.models import User
from intake.cases import team
from intake.cases.access import get_visible_case
from intake.cases.models import Case
from intake.cases.notes import may_read_sensitive
from intake.cases.rules import (
    CaseError,
    ConflictError,
    NotPermitted,
    record_case_event,
    refuse,
    touch_case,
)
from intake.config import Settings
from intake.db import Base, UtcDateTime, new_id, utcnow
from intake.forms.storage import keyring_for
from intake.i18n import gettext as _
from intake.security.field_crypto import encrypt_value
from intake.workflow.services import shipped_catalogue

ORGANISATION = "organisation"
TEAM_MEMBER = "team_member"
REFERRED = "referred_organisation"
MAX_QUANTITY = 100_000
MAX_ITEMS = 20
MAX_NOTE = 2000
# A service is recorded when it is given, or soon after: a year back at most.
MAX_DAYS_BACK = 366
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
ACTION = "case.services_recorded"


class ServiceRecord(Base):
    """One kind of service given on one day: how many, in which unit, by whom."""

    __tablename__ = "service_records"
    __table_args__ = (
        # A post's client id names its rows: a retried post finds them instead of adding.
        UniqueConstraint("client_id", "service_type"),
        Index("ix_service_records_case_on", "case_id", "delivered_on"),
        Index("ix_service_records_org_on", "organisation_id", "delivered_on"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    # The case's track when it was given, so figures per track keep their history.
    track: Mapped[str] = mapped_column(String(64))
    service_type: Mapped[str] = mapped_column(String(64))
    delivered_on: Mapped[dt.date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))
    # organisation, team_member (provider_user_id) or referred_organisation
    # (provider_organisation_id, an organisation the case was referred to).
    provided_by: Mapped[str] = mapped_column(String(24))
    provider_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    provider_organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id"), default=None
    )
    sealed_note: Mapped[str | None] = mapped_column(Text, default=None)
    recorded_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    client_id: Mapped[str] = mapped_column(String(64))


class ServiceError(CaseError):
    """Services that cannot be recorded; `reasons` say why, and nothing was saved."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = list(reasons)
        super().__init__(" ".join(self.reasons))


class ServiceConflict(ConflictError):
    """The same post was already recorded with other values (409)."""

    def __init__(self) -> None:
        CaseError.__init__(
            self,
            _("These services were already recorded with other values. Reload the page."),
        )


@dataclass(frozen=True)
class Provider:
    """Who gave the services: the organisation, a team member or a referred organisation."""

    kind: str
    user_id: str | None = None
    organisation_id: str | None = None


def note_context(record_id: str) -> str:
    """What a record's note is sealed to: a token copied to another record does not open."""
    return f"service:{record_id}"


def delivered_counts(*, db: Session, case_id: str) -> dict[str, int]:
    """How many of each service type the case was given (what requires_services counts)."""
    rows = db.execute(
        sql_select(ServiceRecord.service_type, func.sum(ServiceRecord.quantity))
        .where(ServiceRecord.case_id == case_id)
        .group_by(ServiceRecord.service_type)
    ).all()
    return {code: int(total or 0) for code, total in rows}


PartnerSource = Callable[..., list[tuple[str, str]]]
# referrals/ sits above cases/: its routes install the lookup of the organisations a case
# was referred to (intake.referrals.service_providers). Without it none may be named, so
# no other organisation's name is ever shown on a case that has nothing to do with it.
_partner_source: list[PartnerSource] = []


def install_partner_source(source: PartnerSource) -> None:
    """Name the lookup of the organisations that took a referral of a case."""
    _partner_source[:] = [source]


def partner_organisations(*, db: Session, case: Case) -> list[tuple[str, str]]:
    """(id, name) of the organisations that took a referral of this case."""
    return _partner_source[0](db=db, case=case) if _partner_source else []


def parse_items(
    codes: Sequence[str], quantities: Sequence[str]
) -> tuple[dict[str, int], list[str]]:
    """(code, quantity text) pairs as the form posts them: blank ones skipped, the same type
    twice added up; the problems, translated, when a pair is not usable."""
    known = shipped_catalogue().codes()
    items: dict[str, int] = {}
    problems: list[str] = []
    for code, text in zip(codes, quantities, strict=False):
        text = text.strip()
        if not text:
            continue
        if code not in known:
            problems.append(_("Choose a service from the list."))
            continue
        if not text.isascii() or not text.isdigit() or len(text) > 6:
            problems.append(_("Write how many as a whole number, for example 3."))
            continue
        items[code] = items.get(code, 0) + int(text)
    if any(n < 1 or n > MAX_QUANTITY for n in items.values()):
        problems.append(_("A quantity must be between 1 and 100,000."))
    if not items and not problems:
        problems.append(_("Write how many of at least one service."))
    if len(items) > MAX_ITEMS:
        problems.append(_("Record at most 20 kinds of service at once."))
    return items, sorted(set(problems))


def parse_provider(value: str) -> Provider | None:
    """'organisation', 'team_member:<user id>' or 'referred_organisation:<organisation id>'."""
    kind, _sep, ident = value.partition(":")
    if kind == ORGANISATION and not ident:
        return Provider(ORGANISATION)
    if not re.fullmatch(r"[0-9a-f]{32}", ident):
        return None
    if kind == TEAM_MEMBER:
        return Provider(TEAM_MEMBER, user_id=ident)
    if kind == REFERRED:
        return Provider(REFERRED, organisation_id=ident)
    return None


def _provider_problem(*, db: Session, case: Case, provider: Provider | None) -> str | None:
    if provider is None:
        return _("Choose who gave the services from the list.")
    if provider.kind == TEAM_MEMBER:
        members = {m.user_id for m in team.active_team(db=db, case=case)}
        if provider.user_id not in members:
            return _("Choose who gave the services from the list.")
    partners = {ident for ident, _name in partner_organisations(db=db, case=case)}
    if provider.kind == REFERRED and provider.organisation_id not in partners:
        return _("Choose who gave the services from the list.")
    return None


def _date_problem(delivered_on: dt.date | None, today: dt.date) -> str | None:
    if delivered_on is None:
        return _("Write the date as year-month-day, for example 2025-03-14.")
    if delivered_on > today:
        return _("The date cannot be in the future.")
    if delivered_on < today - dt.timedelta(days=MAX_DAYS_BACK):
        return _("The date is more than a year ago.")
    return None


@dataclass(frozen=True)
class Recording:
    """One post of services, parsed: what, when, by whom, the note and the post's client id."""

    items: Mapping[str, int]
    delivered_on: dt.date | None
    provider: Provider | None
    note: str
    client_id: str


def record_services(
    *,
    db: Session,
    settings: Settings,
    actor: User,
    case: Case,
    recording: Recording,
    problems: Sequence[str] = (),
    today: dt.date,
) -> list[ServiceRecord]:
    """Record the services of one post on the case, in one transaction, and commit.

    `problems` are those found while parsing; any problem refuses the whole post."""
    actor_id, case_id = actor.id, case.id
    case = get_visible_case(db=db, user=actor, case_id=case_id)
    if not may_read_sensitive(db=db, user=actor, case=case):
        refuse(db=db, actor_id=actor_id, case_id=case_id, action=ACTION, code="role")
        raise NotPermitted
    if not CLIENT_ID.fullmatch(recording.client_id):
        _refuse(db, actor_id, case_id, "client_id", _("Reload the page and try again."))
    earlier = _same_post(db=db, client_id=recording.client_id)
    if earlier:
        if not _is_retry(earlier, case_id, recording):
            _refuse_conflict(db, actor_id, case_id)
        return earlier  # a retry of a post already saved: the same result
    found = list(problems)
    if case.closed_at is not None:
        found.append(_("This case is closed."))
    found += [
        p
        for p in (
            _date_problem(recording.delivered_on, today),
            _provider_problem(db=db, case=case, provider=recording.provider),
            _("A note may have at most 2,000 characters.")
            if len(recording.note) > MAX_NOTE
            else None,
        )
        if p
    ]
    if found or not recording.items:
        _refuse(db, actor_id, case_id, "invalid", *(found or [_("Nothing to record.")]))
    return _insert(db=db, settings=settings, actor=actor, case=case, recording=recording)


def _refuse(db: Session, actor_id: str, case_id: str, code: str, *messages: str) -> None:
    refuse(db=db, actor_id=actor_id, case_id=case_id, action=ACTION, code=code)
    raise ServiceError(messages)


def _refuse_conflict(db: Session, actor_id: str, case_id: str) -> None:
    refuse(db=db, actor_id=actor_id, case_id=case_id, action=ACTION, code="conflict")
    raise ServiceConflict


def _same_post(*, db: Session, client_id: str) -> list[ServiceRecord]:
    return list(
        db.execute(
            sql_select(ServiceRecord)
            .where(ServiceRecord.client_id == client_id)
            .order_by(ServiceRecord.service_type)
        ).scalars()
    )


def _is_retry(rows: Sequence[ServiceRecord], case_id: str, recording: Recording) -> bool:
    """Whether saved rows are this very post (same case, services, day and provider)."""
    provider = recording.provider
    return all(
        row.case_id == case_id
        and row.delivered_on == recording.delivered_on
        and provider is not None
        and (row.provided_by, row.provider_user_id, row.provider_organisation_id)
        == (provider.kind, provider.user_id, provider.organisation_id)
        for row in rows
    ) and {(row.service_type, row.quantity) for row in rows} == set(recording.items.items())


def _insert(
    *, db: Session, settings: Settings, actor: User, case: Case, recording: Recording
) -> list[ServiceRecord]:
    assert recording.provider is not None and recording.delivered_on is not None
    now = utcnow()
    keyring = keyring_for(settings)
    note = recording.note.strip()
    rows: list[ServiceRecord] = []
    for code, quantity in sorted(recording.items.items()):
        record_id = new_id()
        rows.append(
            ServiceRecord(
                id=record_id,
                case_id=case.id,
                organisation_id=case.organisation_id,
                track=case.track,
                service_type=code,
                delivered_on=recording.delivered_on,
                quantity=quantity,
                unit=shipped_catalogue().types[code].unit,
                provided_by=recording.provider.kind,
                provider_user_id=recording.provider.user_id,
                provider_organisation_id=recording.provider.organisation_id,
                sealed_note=encrypt_value(
                    keyring=keyring, value=note, context=note_context(record_id)
                )
                if note
                else None,
                recorded_by_id=actor.id,
                created_at=now,
                client_id=recording.client_id,
            )
        )
    case_id, client_id = case.id, recording.client_id
    try:
        with db.begin_nested():
            db.add_all(rows)
            db.flush()
    except IntegrityError:
        # The same post raced itself (a double tap on two connections): the first one won.
        earlier = _same_post(db=db, client_id=client_id)
        if earlier and _is_retry(earlier, case_id, recording):
            db.commit()
            return earlier
        raise
    touch_case(db=db, case_id=case.id, at=now)
    detail = " ".join(f"{row.service_type}={row.quantity}" for row in rows)
    record_case_event(db=db, case=case, actor=actor, action=ACTION, detail=detail)
    return rows
