"""Referrals, the forms they share (sealed again for the referral's rows) and their history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base, UtcDateTime, new_id, utcnow


class Referral(Base):
    """A person referred from a case to another organisation for one named service.

    `open_service` holds the service while the referral is open and NULL once it is
    declined or closed: the unique (case, open_service) pair lets a case hold one open
    referral per service, on both databases, even when two requests race.
    """

    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("case_id", "open_service"),
        Index("ix_referrals_to_org_status", "to_organisation_id", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    from_organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    to_organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    service: Mapped[str] = mapped_column(String(40))
    open_service: Mapped[str | None] = mapped_column(String(40), default=None)
    # sent, accepted, declined, closed
    status: Mapped[str] = mapped_column(String(20), default="sent")
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    answered_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    # The receiving organisation's own case, made on accept.
    linked_case_id: Mapped[str | None] = mapped_column(
        ForeignKey("cases.id"), default=None, index=True
    )
    # delivered, not_delivered ("" while open)
    outcome: Mapped[str] = mapped_column(String(20), default="")
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class ReferralForm(Base):
    """A copy of one shared filling, its sensitive answers sealed for this row.

    Sealed answers are bound to `referral_form:<id>:<field>`: the sender's tokens
    (bound to their submission) are opened and sealed again, so a token copied
    elsewhere opens nowhere. Sensitive answers are left out entirely
    (`sensitive_included` false) when the consent does not cover the recipient kind.
    """

    __tablename__ = "referral_forms"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id"), index=True)
    source_submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    form_key: Mapped[str] = mapped_column(String(64))
    form_version_id: Mapped[str] = mapped_column(ForeignKey("definition_versions.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    sensitive_included: Mapped[bool] = mapped_column(Boolean, default=False)
    answers: Mapped[Any] = mapped_column(JSON, default=dict)


class ReferralEvent(Base):
    """What happened to a referral, seen by both sides: inserted, never changed.

    A reason (declined, not delivered) is free text and sealed, bound to the row.
    """

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # sent, accepted, declined, closed
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    outcome: Mapped[str] = mapped_column(String(20), default="")
    sealed_reason: Mapped[str] = mapped_column(Text, default="")


class Transfer(Base):
    """A case handed over to another organisation: responsibility moves on accept.

    `open_case_id` holds the case id while the transfer waits for an answer and NULL
    once it is answered: unique, so a case has at most one transfer waiting, even when
    two requests race. The reference and the opening date are kept here for the
    sending organisation's read-only stub, which outlives its access to the case.
    """

    __tablename__ = "case_transfers"
    __table_args__ = (
        Index("ix_case_transfers_to_org_status", "to_organisation_id", "status", "created_at"),
        Index("ix_case_transfers_from_org", "from_organisation_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    open_case_id: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    reference: Mapped[str] = mapped_column(String(16))
    case_opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    from_organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    to_organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    # sent, accepted, declined
    status: Mapped[str] = mapped_column(String(20), default="sent")
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    answered_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    # What moved on accept: forms whole, forms without their sensitive answers.
    forms_moved: Mapped[int] = mapped_column(Integer, default=0)
    forms_without_sensitive: Mapped[int] = mapped_column(Integer, default=0)
    # A decline's reason, sealed for this row (`transfer:<id>`).
    sealed_reason: Mapped[str] = mapped_column(Text, default="")


class PartnerMember(Base):
    """A named user of another organisation on a case's team, for one function.

    `open_key` ("case:user") is set while the invitation waits or the membership runs,
    and NULL once it ends: unique, so a person holds one place on a case's team.
    Whether the access still runs is decided at every read as well (case closed,
    consent withdrawn), not only by `status`.
    """

    __tablename__ = "case_partner_members"
    __table_args__ = (Index("ix_case_partner_members_org_status", "organisation_id", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    function: Mapped[str] = mapped_column(String(40))
    open_key: Mapped[str | None] = mapped_column(String(80), unique=True, default=None)
    # invited, approved, declined, removed
    status: Mapped[str] = mapped_column(String(20), default="invited")
    invited_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    invited_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    answered_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class TeamNote(Base):
    """A note addressed to the whole team, partner members included; sealed (`team_note:<id>`).

    The case's own notes (intake.cases.notes) never reach a partner: only these do.
    """

    __tablename__ = "case_team_notes"
    __table_args__ = (Index("ix_case_team_notes_case_at", "case_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sealed_text: Mapped[str] = mapped_column(Text)


class ExternalBody(Base):
    """A counterpart outside the installation (a ministry, an NGO, an IOM mission, a
    consulate), registered by an organisation's administrator; it has no accounts."""

    __tablename__ = "external_bodies"
    __table_args__ = (Index("ix_external_bodies_org_name", "organisation_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200))
    # ngo, ministry, iom, consulate, other
    kind: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    # Language codes, the first is the one summaries are printed in.
    languages: Mapped[Any] = mapped_column(JSON, default=list)
    contact: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ReturnReferral(Base):
    """A safe-return referral of a case's person to an external body, and its status."""

    __tablename__ = "return_referrals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    external_body_id: Mapped[str] = mapped_column(ForeignKey("external_bodies.id"))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    language: Mapped[str] = mapped_column(String(10))
    # sent, acknowledged, arrived, followed_up
    status: Mapped[str] = mapped_column(String(20), default="sent")
    follow_up_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    sending_contact: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
