"""Organisations and the people who use the system."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.db import Base, UtcDateTime, new_id, utcnow


class OrganisationKind(StrEnum):
    NGO = "ngo"
    MUNICIPALITY = "municipality"
    SHELTER = "shelter"
    OTHER = "other"
    # A ministry or municipal coordinator: sees the anonymised figures of the organisations
    # that report to it (intake.statistics), and no case.
    COORDINATION = "coordination"


class Role(StrEnum):
    OUTREACH_WORKER = "outreach_worker"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    # Runs the installation: organisations and their administrators, never case data.
    # Created from the command line only.
    INSTALLATION_ADMIN = "installation_admin"
    # Belongs to a coordinating organisation; sees anonymised statistics only, never a case.
    COORDINATOR = "coordinator"


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default=OrganisationKind.NGO.value)
    country: Mapped[str] = mapped_column(String(2), default="LT")
    # How another organisation reaches this one's coordinator (shown in overlap warnings).
    contact: Mapped[str] = mapped_column(String(300), default="")
    # A deactivated organisation's users are disabled and none can be enabled or added.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Outreach workers need a second factor only where their organisation asks for one.
    mfa_for_workers: Mapped[bool] = mapped_column(Boolean, default=False)
    # Closed cases are anonymised this many years after closing (intake.retention).
    retention_years: Mapped[int] = mapped_column(Integer, default=5)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str | None] = mapped_column(String(10), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # A one-time password is waiting to be made and handed over by a supervisor,
    # because the administrator who asked for it must not learn it.
    handover_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # The TOTP secret, sealed with the data keys (intake.accounts.mfa); None: not enrolled.
    totp_secret: Mapped[str | None] = mapped_column(String(300), default=None)
    # A secret shown for enrolment from the account page, kept until a code confirms it.
    totp_pending_secret: Mapped[str | None] = mapped_column(String(300), default=None)
    # The last time step a code was accepted for: no code is ever accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer, default=None)
    totp_enrolled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
