"""Drafts and submissions of forms.

Sensitive answers are stored as AES-GCM tokens (intake.security.field_crypto)
bound to the row and field; everything else as typed JSON values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base, UtcDateTime, new_id, utcnow


class FormDraft(Base):
    """A filling in progress, saved page by page so a dead phone loses one page at most."""

    __tablename__ = "form_drafts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # Made by the page when the filling starts; the same id later names the submission.
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    form_version_id: Mapped[str] = mapped_column(ForeignKey("definition_versions.id"))
    form_key: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), default=None, index=True)
    content_language: Mapped[str] = mapped_column(String(10))
    page_index: Mapped[int] = mapped_column(Integer, default=0)
    answers: Mapped[Any] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # Set when the answers came from a phone's sealed record (intake.filling.offline);
    # the submission made from this draft carries both marks.
    sealed_with: Mapped[str | None] = mapped_column(String(32), default=None)
    filled_at_stage: Mapped[str | None] = mapped_column(String(64), default=None)


class Submission(Base):
    """A completed filling. Never updated: filling a form again adds a new row."""

    __tablename__ = "submissions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    # Keyed digest of the answers: a retry with the same answers is recognised,
    # a different filling under the same id is refused.
    answers_digest: Mapped[str] = mapped_column(String(64))
    form_version_id: Mapped[str] = mapped_column(ForeignKey("definition_versions.id"))
    form_key: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), default=None, index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    submitted_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    language: Mapped[str] = mapped_column(String(10))
    submitted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    answers: Mapped[Any] = mapped_column(JSON, default=dict)
    # The server key a phone sealed these answers to (None: filled online).
    sealed_with: Mapped[str | None] = mapped_column(String(32), default=None)
    # The case's stage when the form was filled offline, kept when the case had moved on
    # meanwhile: the supervisor sees "filled while the case was at stage X".
    filled_at_stage: Mapped[str | None] = mapped_column(String(64), default=None)


class SealingKey(Base):
    """A key pair phones seal finished fillings to (ECDH P-256). The private half never
    leaves the server and is stored encrypted with the data keyring; a retired key no
    longer seals anything new but still opens what was sealed to it."""

    __tablename__ = "sealing_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    public_key: Mapped[str] = mapped_column(Text)  # base64 of the uncompressed point
    private_key: Mapped[str] = mapped_column(Text)  # field-crypto token of the PKCS#8 bytes
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
