"""Personal access tokens for the JSON API (intake.accounts.tokens decides what they may do)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base, UtcDateTime, new_id


class ApiToken(Base):
    """One token of one user: only a SHA-256 of the secret is stored, as for sessions."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Space-separated scopes, from intake.accounts.tokens.SCOPES.
    scopes: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    # The rate limit: requests counted in a fixed window of a minute.
    window_start: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    window_count: Mapped[int] = mapped_column(Integer, default=0)
