"""What an anonymised case keeps of its person: coarse figures for statistics, nothing else."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base


class CaseStatistics(Base):
    """The coarse figures of an anonymised case (the case row keeps track, stages and dates)."""

    __tablename__ = "case_statistics"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    # "0-13", "14-17", "18-24", "25-34", "35-49", "50+" or "" when unknown.
    age_band: Mapped[str] = mapped_column(String(8), default="")
    # Choice names of the intake form (never a free-text "other" answer).
    gender: Mapped[str] = mapped_column(String(40), default="")
    nationality: Mapped[str] = mapped_column(String(40), default="")
