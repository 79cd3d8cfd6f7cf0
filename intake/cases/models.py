"""Cases, their append-only history and their team."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base, UtcDateTime, new_id, utcnow


class Case(Base):
    """One person's assistance, moved through a track's stages.

    `row_version` is SQLAlchemy's version counter: an UPDATE that finds the
    row changed since it was read matches nothing, and the second of two
    supervisors acting at once is told so instead of overwriting the first.
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_org_activity", "organisation_id", "last_activity_at", "id"),
        Index("ix_cases_owner_activity", "owner_id", "last_activity_at", "id"),
        # The caseload's stage filter and overdue list, within one organisation.
        Index("ix_cases_org_state_activity", "organisation_id", "state", "last_activity_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    workflow_version_id: Mapped[str] = mapped_column(ForeignKey("definition_versions.id"))
    track: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    state_entered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_activity_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # Keyed fingerprint of normalised name and birth date, for overlap warnings.
    fingerprint: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    # When retention or an erasure request erased the person's data (intake.retention).
    anonymised_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012


class CaseHistory(Base):
    """What happened to a case: inserted, never updated or deleted."""

    __tablename__ = "case_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # created, transition, track_changed, migrated, team_assigned, team_removed
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    actor_role: Mapped[str] = mapped_column(String(20), default="")
    trigger: Mapped[str] = mapped_column(String(64), default="")
    from_state: Mapped[str] = mapped_column(String(64), default="")
    to_state: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    workflow_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("definition_versions.id"), default=None
    )
    subject_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    team_function: Mapped[str] = mapped_column(String(40), default="")


class CaseTeamMember(Base):
    """A person assigned to a function on a case; removal keeps the row (removed_at)."""

    __tablename__ = "case_team"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    function: Mapped[str] = mapped_column(String(40))
    assigned_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    assigned_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class CaseNote(Base):
    """A note on a case, readable by its team and its organisation's supervisors.

    The text is a field_crypto token bound to the note's id (`note:<id>`), so a
    token copied onto another note does not decrypt.
    """

    __tablename__ = "case_notes"
    __table_args__ = (Index("ix_case_notes_case_at", "case_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    author_role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sealed_text: Mapped[str] = mapped_column(Text)


class Intake(Base):
    """One intake in progress: consent first, then the intake form, then a case.

    Both client ids are made when the intake starts, so every step (and every
    retry of it) names the same fillings and the same case.
    """

    __tablename__ = "intakes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    consent_client_id: Mapped[str] = mapped_column(String(64), unique=True)
    intake_client_id: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(10))
    consent_submission_id: Mapped[str | None] = mapped_column(
        ForeignKey("submissions.id"), default=None
    )
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
