"""Which organisations report their anonymised figures to which coordinating organisation."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base, UtcDateTime, new_id, utcnow


class ReportingAgreement(Base):
    """An organisation agreed that a coordinating organisation sees its anonymised figures.

    Recorded (and ended) by the installation administrator; a row is deleted when the
    agreement ends, and both are in the audit trail."""

    __tablename__ = "reporting_agreements"
    __table_args__ = (
        UniqueConstraint("coordinator_id", "reporting_id", name="uq_reporting_agreements_pair"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # The coordinating organisation (kind "coordination") that sees the figures.
    coordinator_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The organisation whose cases are counted.
    reporting_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
