"""Time-based one-time codes (RFC 6238, by pyotp) and single-use recovery codes.

Pure functions: no database, no web. A code is accepted for the time step before,
at or after now (clocks on phones drift), and only for a step later than the last
one accepted, so a code seen over a shoulder or replayed is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import pyotp
import segno

STEP_SECONDS = 30
DIGITS = 6
# Steps either side of now that are still accepted (clock drift on phones).
DRIFT_STEPS = 1
RECOVERY_CODES = 10
# Twelve characters from 31 without look-alikes (0, 1, i, l, o): about 59 bits, used once.
_RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_RECOVERY_LENGTH = 12


def new_secret() -> str:
    """A fresh 160-bit secret, base32 as authenticator apps expect."""
    return pyotp.random_base32(length=32)


def provisioning_uri(*, secret: str, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The QR code of `uri` as inline SVG markup (drawn here, no outside service)."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff"))


def step_at(moment: dt.datetime) -> int:
    """The time step a moment falls in."""
    return int(moment.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The code for one time step."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def normalise_code(code: str) -> str:
    """The code as typed, without spaces or dashes (apps show "123 456")."""
    return "".join(ch for ch in code if not ch.isspace() and ch != "-")[:64]


def matching_step(*, secret: str, code: str, now: dt.datetime, last_step: int | None) -> int | None:
    """The time step `code` belongs to, if it is valid now and newer than `last_step`."""
    code = normalise_code(code)
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    current = step_at(now)
    found = None
    # Every candidate is compared, in constant time, whatever matched first.
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, step), code) and (
            last_step is None or step > last_step
        ):
            found = step
    return found


def new_recovery_codes() -> list[str]:
    """Ten fresh recovery codes, shown once, written as xxxx-xxxx-xxxx."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    return codes


def recovery_hash(code: str) -> str:
    """The stored form of a recovery code (typed in any case, with or without dashes)."""
    return hashlib.sha256(normalise_code(code).lower().encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    """Whether `code` has the shape of a recovery code rather than a six-digit one."""
    return len(normalise_code(code)) == _RECOVERY_LENGTH
