"""Sealing a record as a phone does (the tests' twin of static/js/offline-store.js)."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from intake.filling.sealing import INFO, PublicKey


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def seal_for_tests(*, public_key: PublicKey, payload: dict[str, Any]) -> dict[str, Any]:
    """Seal as a phone does (the tests' twin of static/js/offline-crypto.js)."""
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    server = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), base64.b64decode(public_key.public_key)
    )
    secret = ephemeral.exchange(ec.ECDH(), server)
    aes_key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=public_key.key_id.encode(), info=INFO
    ).derive(secret)
    nonce = os.urandom(12)
    sealed = AESGCM(aes_key).encrypt(
        nonce, json.dumps(payload).encode(), public_key.key_id.encode()
    )
    point = ephemeral.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {
        "v": 1,
        "kid": public_key.key_id,
        "epk": _b64(point),
        "iv": _b64(nonce),
        "ct": _b64(sealed),
    }
