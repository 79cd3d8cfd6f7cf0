"""How answers rest in the database: sensitive ones sealed, and a keyed digest for retries.

A sensitive answer is stored as a field_crypto token of its JSON text, bound to
the row and the field (`draft:<id>:<field>`, `submission:<id>:<field>`), so a
token copied into another row or field does not decrypt. A repeat group with a
sensitive member is sealed whole: its rows move as one value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from intake.config import Settings
from intake.forms.definition import FormDefinition
from intake.forms.schema import FieldType
from intake.security.field_crypto import Keyring, decrypt_value, encrypt_value, key_id_of


@lru_cache(maxsize=8)
def _keyring(data_keys: str) -> Keyring:
    return Keyring.from_config(data_keys)


def keyring_for(settings: Settings) -> Keyring:
    """The keyring of these settings, parsed once."""
    return _keyring(settings.data_keys)


def sealed_names(form: FormDefinition) -> frozenset[str]:
    """Top-level answers stored encrypted: sensitive fields, and groups holding one."""
    return frozenset(
        f.name
        for f in form.top_level_fields()
        if f.sensitive or any(member.sensitive for member in f.fields)
    )


def seal(
    *, settings: Settings, form: FormDefinition, answers: Mapping[str, Any], row: str
) -> dict[str, Any]:
    """JSON answers with every sensitive one encrypted, bound to `row` ("draft:<id>")."""
    keyring = keyring_for(settings)
    sealed = sealed_names(form)
    return {
        name: (
            encrypt_value(
                keyring=keyring,
                value=json.dumps(value, ensure_ascii=False),
                context=f"{row}:{name}",
            )
            if name in sealed
            else value
        )
        for name, value in answers.items()
    }


def unseal(
    *, settings: Settings, form: FormDefinition, stored: Mapping[str, Any], row: str
) -> dict[str, Any]:
    """The JSON answers of a row, sensitive ones decrypted (FieldCryptoError if tampered).

    A value of a sealed name that is not shaped like a token was stored before its
    field became sensitive (free text is sealed since migration 0016, which seals what
    it finds, as `intake keys rotate` does): it is read as it is."""
    keyring = keyring_for(settings)
    sealed = sealed_names(form)
    return {
        name: (
            json.loads(decrypt_value(keyring=keyring, token=value, context=f"{row}:{name}"))
            if name in sealed and key_id_of(value) is not None
            else value
        )
        for name, value in stored.items()
    }


def seal_clear(
    *, settings: Settings, form: FormDefinition, stored: Mapping[str, Any], row: str
) -> dict[str, Any] | None:
    """The stored answers with every sealed name that is still in the clear sealed, or
    None when there is none (rows written before a field became sensitive)."""
    sealed = sealed_names(form)
    clear = {
        name: value
        for name, value in stored.items()
        if name in sealed and value is not None and key_id_of(value) is None
    }
    if not clear:
        return None
    return {**stored, **seal(settings=settings, form=form, answers=clear, row=row)}


def person_answers(form: FormDefinition, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers a person gave, without calculated values (which depend on the day)."""
    kept: dict[str, Any] = {}
    for name, value in answers.items():
        field = form.fields.get(name)
        if field is None or field.type == FieldType.CALCULATE:
            continue
        if field.type == FieldType.REPEAT and isinstance(value, list):
            computed = {m.name for m in field.fields if m.type == FieldType.CALCULATE}
            value = [
                {k: v for k, v in row.items() if k not in computed}
                for row in value
                if isinstance(row, Mapping)
            ]
        kept[name] = value
    return kept


def answers_digest(
    *, settings: Settings, form: FormDefinition, version_id: str, answers: Mapping[str, Any]
) -> str:
    """A keyed digest of a filling's JSON answers: equal answers give equal digests.

    Keyed, so the digest (stored, and shown in the review page) says nothing
    about the answers to anyone without the secret key.
    """
    canonical = json.dumps(
        [version_id, person_answers(form, answers)],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    key = settings.secret_key.encode()
    return hmac.new(key, b"submission-answers:" + canonical.encode(), hashlib.sha256).hexdigest()
