"""Second-factor rows: recovery codes, sign-ins waiting for a code, re-authentications."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base, UtcDateTime, new_id


class RecoveryCode(Base):
    """One single-use recovery code; only its SHA-256 is stored (the code has 80 random bits)."""

    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class SignInChallenge(Base):
    """A password accepted, a code still owed: this grants nothing but the code step.

    Only the hash of its cookie's token is stored, like a session's."""

    __tablename__ = "sign_in_challenges"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # For a user who must enrol first: the secret shown on the enrolment step (sealed).
    enrol_secret: Mapped[str | None] = mapped_column(String(300), default=None)


class Reauthentication(Base):
    """When a session's person last proved again who they are (a password or a code)."""

    __tablename__ = "reauthentications"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("user_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
