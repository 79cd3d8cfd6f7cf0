"""Published definitions (forms and workflows) as immutable, numbered versions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base, UtcDateTime, new_id, utcnow


class DefinitionVersion(Base):
    """One published version: the YAML exactly as written, and what it parsed to.

    Rows are only ever inserted. A rollback publishes an old text again as a
    new number; two administrators publishing at once collide on the unique
    (kind, key, number) and the second is told to reload.
    """

    __tablename__ = "definition_versions"
    __table_args__ = (UniqueConstraint("kind", "key", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(10))  # "form" or "workflow"
    key: Mapped[str] = mapped_column(String(64), index=True)  # the definition's own id
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3 ... per (kind, key)
    declared_version: Mapped[int] = mapped_column(Integer)  # `version:` as written
    source_text: Mapped[str] = mapped_column(Text)
    # Read by the definition editor only: not loaded with every version a request uses.
    parsed: Mapped[Any] = mapped_column(JSON, deferred=True)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of source_text
    source_name: Mapped[str] = mapped_column(String(200), default="")
    published_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    published_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    note: Mapped[str] = mapped_column(String(200), default="")
