"""Encryption at rest of sensitive answers (names, birth dates, notes).

AES-256-GCM with a fresh 96-bit random nonce per value. A token reads
`v1:<key id>:<base64url(nonce + ciphertext + tag)>`, so a value encrypted
under an older key still decrypts after rotation. The associated data is the
caller's `context` (e.g. "submission:<id>:given_name"): a ciphertext copied
into another row or field fails to decrypt instead of showing one person's
answer on another person's record.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


class FieldCryptoError(Exception):
    """A keyring setting or a token cannot be used; the message never holds key or data."""


@dataclass(frozen=True)
class Keyring:
    """Keys by id; `active` encrypts, every key decrypts."""

    keys: Mapping[str, bytes]
    active: str

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise FieldCryptoError("the active key id is not in the keyring")
        for key_id, key in self.keys.items():
            if not _KEY_ID.fullmatch(key_id):
                raise FieldCryptoError(f"key id {key_id!r} must be 1-32 letters, digits, - or _")
            if len(key) != KEY_BYTES:
                raise FieldCryptoError(f"key {key_id!r} must be {KEY_BYTES} bytes")
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))

    @classmethod
    def from_config(cls, text: str) -> Keyring:
        """Parse `kid1:base64key,kid2:base64key`; the first key is the active one."""
        keys: dict[str, bytes] = {}
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            key_id, separator, encoded = entry.partition(":")
            if not separator:
                raise FieldCryptoError("each key is written as <key id>:<base64 key>")
            if key_id in keys:
                raise FieldCryptoError(f"key id {key_id!r} is listed twice")
            keys[key_id] = _decode_key(key_id, encoded.strip())
        if not keys:
            raise FieldCryptoError("the keyring setting holds no key")
        return cls(keys=keys, active=next(iter(keys)))

    def __repr__(self) -> str:
        # Never let a key reach a log or a traceback.
        return f"Keyring(active={self.active!r}, key_ids={sorted(self.keys)!r})"


def _decode_key(key_id: str, encoded: str) -> bytes:
    padded = encoded + "=" * (-len(encoded) % 4)
    # Standard or URL-safe alphabet; anything else is refused, not skipped.
    for altchars in (None, b"-_"):
        try:
            return base64.b64decode(padded, altchars=altchars, validate=True)
        except (binascii.Error, ValueError):
            continue
    raise FieldCryptoError(f"key {key_id!r} is not valid base64")


def generate_key() -> str:
    """A new random key, base64-encoded, for the keyring setting."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def encrypt_value(*, keyring: Keyring, value: str, context: str) -> str:
    """Encrypt `value` with the active key, bound to `context`."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(keyring.keys[keyring.active]).encrypt(
        nonce, value.encode("utf-8"), context.encode("utf-8")
    )
    payload = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
    return f"{VERSION}:{keyring.active}:{payload}"


def decrypt_value(*, keyring: Keyring, token: str, context: str) -> str:
    """The plain value of `token`; FieldCryptoError if it was altered, moved or its key is gone."""
    version, _sep, rest = token.partition(":")
    key_id, _sep2, payload = rest.partition(":")
    if version != VERSION or not key_id or not payload:
        raise FieldCryptoError("not an encrypted value")
    key = keyring.keys.get(key_id)
    if key is None:
        raise FieldCryptoError(f"no key {key_id!r} in the keyring")
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    except (binascii.Error, ValueError):
        raise FieldCryptoError("the encrypted value is damaged") from None
    if len(raw) < NONCE_BYTES + 16:
        raise FieldCryptoError("the encrypted value is damaged")
    try:
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode("utf-8"))
    except InvalidTag:
        raise FieldCryptoError("the encrypted value does not belong here or was altered") from None
    return plain.decode("utf-8")


def key_id_of(value: object) -> str | None:
    """The key id a token names, or None when `value` is not shaped like a token.

    Shape only: a person's text may look like a token; decrypting tells them apart."""
    if not isinstance(value, str):
        return None
    version, _sep, rest = value.partition(":")
    key_id, _sep2, payload = rest.partition(":")
    if version != VERSION or not payload or not _KEY_ID.fullmatch(key_id):
        return None
    return key_id


def reencrypt_value(*, keyring: Keyring, token: str, context: str) -> str:
    """`token` sealed again with the active key, bound to the same `context`."""
    plain = decrypt_value(keyring=keyring, token=token, context=context)
    return encrypt_value(keyring=keyring, value=plain, context=context)
