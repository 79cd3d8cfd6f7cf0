"""Referrals, the forms they share (sealed again for the referral's rows) and their history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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
