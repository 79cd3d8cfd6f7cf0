"""Keyed fingerprints of a case's person, and the overlaps found between cases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base, UtcDateTime, new_id, utcnow


class CaseFingerprint(Base):
    """An HMAC of normalised name and birth date (or year): comparable, not reversible
    without the server's key."""

    __tablename__ = "case_fingerprints"
    __table_args__ = (UniqueConstraint("case_id", "value"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    value: Mapped[str] = mapped_column(String(64), index=True)


class OverlapMatch(Base):
    """Two open cases, possibly of one person, at two organisations (or one)."""

    __tablename__ = "overlap_matches"
    __table_args__ = (UniqueConstraint("case_id", "other_case_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    other_case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    found_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
