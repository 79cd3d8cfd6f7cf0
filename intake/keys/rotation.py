"""Key rotation: every sealed value re-encrypted with the active data key, batch by batch.

The operator puts a new key first in INTAKE_DATA_KEYS (the old ones stay after it, so
everything still decrypts) and runs `intake keys rotate`. Each batch is one short write
transaction that reads its rows locked and writes them back, so a value saved meanwhile
is never overwritten with an older one. A value already under the active key is skipped:
an interrupted rotation is simply run again, and picks up where the work is left.

Each value keeps its associated data (its row and field): a re-encrypted token still
fails to decrypt anywhere else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, cast, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from intake.accounts import mfa
from intake.accounts.mfa_models import SignInChallenge
from intake.accounts.models import User
from intake.cases import notes, reasons
from intake.cases.models import CaseHistory, CaseNote
from intake.db import read_transaction, write_transaction
from intake.filling import sealing
from intake.filling.models import FormDraft, SealingKey, Submission
from intake.referrals.models import ReferralForm
from intake.security.field_crypto import (
    VERSION,
    FieldCryptoError,
    Keyring,
    key_id_of,
    reencrypt_value,
)

BATCH_SIZE = 200


@dataclass(frozen=True)
class Column:
    """One column holding a single token, and the associated data of a row's token."""

    name: str
    key: InstrumentedAttribute[Any]
    value: InstrumentedAttribute[Any]
    context: Callable[[Any], str]


@dataclass(frozen=True)
class AnswerColumn:
    """A JSON answers column: each top-level answer may be a token bound to `<row>:<name>`."""

    name: str
    key: InstrumentedAttribute[Any]
    value: InstrumentedAttribute[Any]
    row: Callable[[Any], str]


# Every place a value is sealed with the data keys. A new sealed column is added here,
# and the rotation test finds it (it looks for an old key id in every text column).
SEALED: tuple[Column | AnswerColumn, ...] = (
    AnswerColumn("submissions", Submission.id, Submission.answers, lambda i: f"submission:{i}"),
    AnswerColumn("drafts", FormDraft.id, FormDraft.answers, lambda i: f"draft:{i}"),
    AnswerColumn(
        "shared forms", ReferralForm.id, ReferralForm.answers, lambda i: f"referral_form:{i}"
    ),
    Column("history reasons", CaseHistory.id, CaseHistory.reason, reasons.reason_context),
    Column("notes", CaseNote.id, CaseNote.sealed_text, notes._context),
    Column("second factors", User.id, User.totp_secret, mfa.secret_context),
    Column("second factors pending", User.id, User.totp_pending_secret, mfa.pending_context),
    Column(
        "sign-in enrolments",
        SignInChallenge.token_hash,
        SignInChallenge.enrol_secret,
        mfa.challenge_context,
    ),
    Column("sealing keys", SealingKey.id, SealingKey.private_key, sealing.key_context),
)


@dataclass
class Progress:
    """How far a rotation got, per column and in all."""

    checked: Counter[str] = field(default_factory=Counter)
    reencrypted: Counter[str] = field(default_factory=Counter)
    unreadable: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    complete: bool = False


@dataclass(frozen=True)
class Report:
    """What is left after a rotation: the values each key id still seals."""

    progress: Progress
    still_sealing: Mapping[str, int]
    active: str
    key_ids: tuple[str, ...]

    @property
    def removable(self) -> list[str]:
        """Old key ids that seal nothing any more."""
        return [k for k in self.key_ids if k != self.active and not self.still_sealing.get(k)]


def _candidates(source: Column | AnswerColumn, active: str) -> Any:
    """Rows that may hold a token under another key (a cheap filter; Python decides)."""
    if isinstance(source, AnswerColumn):
        return cast(source.value, Text).contains(f'"{VERSION}:', autoescape=True)
    return source.value.startswith(f"{VERSION}:", autoescape=True) & ~source.value.startswith(
        f"{VERSION}:{active}:", autoescape=True
    )


def _reseal(
    keyring: Keyring, value: Any, context: str, progress: Progress, name: str
) -> Any | None:
    """The value under the active key, or None when it stays as it is."""
    key_id = key_id_of(value)
    if key_id is None or key_id == keyring.active:
        return None
    try:
        return reencrypt_value(keyring=keyring, token=value, context=context)
    except FieldCryptoError:
        # A person's text shaped like a token, or a value whose key is gone: left alone,
        # and its key id still counts as in use.
        progress.unreadable[name] += 1
        return None


def _new_value(
    source: Column | AnswerColumn, keyring: Keyring, key: Any, value: Any, progress: Progress
) -> Any | None:
    if isinstance(source, Column):
        return _reseal(keyring, value, source.context(key), progress, source.name)
    if not isinstance(value, Mapping):
        return None
    row = source.row(key)
    changed = False
    answers = dict(value)
    for name, answer in value.items():
        resealed = _reseal(keyring, answer, f"{row}:{name}", progress, source.name)
        if resealed is not None:
            answers[name], changed = resealed, True
    return answers if changed else None


def _batch(
    db: Session,
    source: Column | AnswerColumn,
    keyring: Keyring,
    after: Any,
    size: int,
    progress: Progress,
) -> Any | None:
    """Re-encrypt one batch in one write transaction; the last key seen, None at the end."""
    with write_transaction(db):
        query = select(source.key, source.value).where(_candidates(source, keyring.active))
        if after is not None:
            query = query.where(source.key > after)
        rows = db.execute(query.order_by(source.key).limit(size).with_for_update()).all()
        for key, value in rows:
            progress.checked[source.name] += 1
            new = _new_value(source, keyring, key, value, progress)
            if new is not None:
                db.execute(
                    update(source.key.class_)
                    .where(source.key == key)
                    .values({source.value.key: new})
                )
                progress.reencrypted[source.name] += 1
    progress.batches += 1
    return rows[-1][0] if len(rows) == size else None


def rotate(
    *,
    db: Session,
    keyring: Keyring,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
    on_batch: Callable[[str, Progress], None] | None = None,
) -> Report:
    """Re-encrypt every sealed value under the active key; stop after `max_batches` if given."""
    progress = Progress()
    for source in SEALED:
        after: Any = None
        while True:
            if max_batches is not None and progress.batches >= max_batches:
                return report(db=db, keyring=keyring, progress=progress)
            after = _batch(db, source, keyring, after, batch_size, progress)
            if on_batch is not None:
                on_batch(source.name, progress)
            if after is None:
                break
    progress.complete = True
    return report(db=db, keyring=keyring, progress=progress)


def _tokens(db: Session, source: Column | AnswerColumn) -> Iterator[str]:
    query = select(source.value).where(_candidates(source, "")).execution_options(yield_per=500)
    for value in db.execute(query).scalars():
        if isinstance(value, Mapping):
            yield from (v for v in value.values() if isinstance(v, str))
        elif isinstance(value, str):
            yield value


def report(*, db: Session, keyring: Keyring, progress: Progress | None = None) -> Report:
    """How many values each key id seals now (read in one transaction that writes nothing)."""
    counts: Counter[str] = Counter()
    with read_transaction(db):
        for source in SEALED:
            for token in _tokens(db, source):
                key_id = key_id_of(token)
                if key_id is not None and key_id in keyring.keys:
                    counts[key_id] += 1
    return Report(
        progress=progress or Progress(),
        still_sealing=dict(counts),
        active=keyring.active,
        key_ids=tuple(keyring.keys),
    )
