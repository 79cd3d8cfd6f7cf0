"""The reasons written on a case's history (why it closed early, why contact was lost, why
its track changed): free text that can name a person or a place, so it is sealed at rest
like a sensitive answer and shown only to those with need to know (its team and its
organisation's supervisors; intake.cases.notes.may_read_sensitive).

A reason is a field_crypto token bound to its history row (`case_history:<id>`), so a
token copied onto another row does not decrypt.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from intake.cases.models import CaseHistory
from intake.config import Settings
from intake.forms.storage import keyring_for
from intake.security.field_crypto import decrypt_value, encrypt_value, key_id_of


def reason_context(history_id: int) -> str:
    """The associated data of a history row's sealed reason."""
    return f"case_history:{history_id}"


def seal_reason(*, db: Session, settings: Settings, row: CaseHistory, reason: str) -> None:
    """Store `reason` on the (pending) history row, sealed to the row's id."""
    if not reason:
        row.reason = ""
        return
    if row.id is None:
        db.flush()  # the id is the token's associated data
    row.reason = encrypt_value(
        keyring=keyring_for(settings), value=reason, context=reason_context(row.id)
    )


def open_reason(*, settings: Settings, row: CaseHistory) -> str:
    """The reason in the clear (the caller checks need to know); a reason written before
    reasons were sealed is read as it is."""
    if key_id_of(row.reason) is None:
        return row.reason
    return decrypt_value(
        keyring=keyring_for(settings), token=row.reason, context=reason_context(row.id)
    )
