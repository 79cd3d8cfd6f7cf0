"""The server's sealing keys, and opening what a phone sealed to one of them.

A phone seals a finished filling with WebCrypto: a fresh ECDH P-256 key pair, the shared
secret with the server's public key, HKDF-SHA-256 (salt: the key id, info: INFO) to an
AES-256-GCM key, the key id as associated data. Once sealed, the phone cannot read the
record back; only this server can, with the private half, which never leaves it and is
kept encrypted with the data keyring. Keys rotate: a new one seals, the old still opens.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.audit import service as audit
from intake.config import Settings
from intake.db import new_id, utcnow, write_transaction
from intake.filling.models import SealingKey
from intake.forms.storage import keyring_for
from intake.security.field_crypto import FieldCryptoError, decrypt_value, encrypt_value

INFO = b"intake offline record v1"
MAX_SEALED = 2_000_000  # characters of ciphertext: far above any filling


class SealBroken(ValueError):
    """The record is not one this server can open (damaged, altered, or an unknown key)."""


@dataclass(frozen=True)
class PublicKey:
    """What a phone needs to seal to the server: the key id and the raw public point."""

    key_id: str
    public_key: str


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str) or len(text) > MAX_SEALED:
        raise SealBroken("not base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SealBroken("not base64 text") from None


def key_context(key_id: str) -> str:
    """The associated data of a sealing key's private half (data-key rotation uses it)."""
    return f"sealing_key:{key_id}"


def create_key(*, db: Session, settings: Settings) -> SealingKey:
    """A new key pair that seals from now on; the others are retired (they still open)."""
    private = ec.generate_private_key(ec.SECP256R1())
    point = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    pkcs8 = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_id = new_id()
    token = encrypt_value(
        keyring=keyring_for(settings), value=_b64(pkcs8), context=key_context(key_id)
    )
    with write_transaction(db):
        now = utcnow()
        current = select(SealingKey).where(SealingKey.retired_at.is_(None))
        for older in db.execute(current).scalars():
            older.retired_at = now
        key = SealingKey(
            id=key_id, public_key=_b64(point), private_key=token, created_at=now, retired_at=None
        )
        db.add(key)
        audit.record(
            db=db, action="sealing_key.created", object_type="sealing_key", object_id=key_id
        )
    return key


def active_key(*, db: Session, settings: Settings) -> PublicKey:
    """The key phones seal to now; made at first use."""
    key = db.execute(
        select(SealingKey)
        .where(SealingKey.retired_at.is_(None))
        .order_by(SealingKey.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if key is None:
        key = create_key(db=db, settings=settings)
    return PublicKey(key_id=key.id, public_key=key.public_key)


def _private_key(db: Session, settings: Settings, key_id: str) -> ec.EllipticCurvePrivateKey:
    key = db.get(SealingKey, key_id) if len(key_id) <= 32 else None
    if key is None:
        raise SealBroken("unknown key")
    try:
        pkcs8 = decrypt_value(
            keyring=keyring_for(settings), token=key.private_key, context=key_context(key.id)
        )
    except FieldCryptoError:
        raise SealBroken("the key cannot be opened") from None
    private = serialization.load_der_private_key(base64.b64decode(pkcs8), password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise SealBroken("not an EC key")
    return private


def open_record(*, db: Session, settings: Settings, record: Any) -> tuple[str, dict[str, Any]]:
    """The key id and the JSON object inside a sealed record; SealBroken otherwise."""
    if not isinstance(record, dict) or record.get("v") != 1:
        raise SealBroken("not a sealed record")
    key_id = record.get("kid")
    if not isinstance(key_id, str):
        raise SealBroken("no key id")
    private = _private_key(db, settings, key_id)
    try:
        point = _unb64(record.get("epk"))
        peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise SealBroken("not a P-256 point") from None
    secret = private.exchange(ec.ECDH(), peer)
    aes_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=key_id.encode(), info=INFO).derive(
        secret
    )
    nonce = _unb64(record.get("iv"))
    if len(nonce) != 12:
        raise SealBroken("bad nonce")
    try:
        plain = AESGCM(aes_key).decrypt(nonce, _unb64(record.get("ct")), key_id.encode())
        payload = json.loads(plain.decode("utf-8"))
    except (InvalidTag, UnicodeDecodeError, ValueError):
        raise SealBroken("the record does not open") from None
    if not isinstance(payload, dict):
        raise SealBroken("not an object")
    return key_id, payload
