"""Password policy and hashing (OWASP ASVS 5.0, V6).

argon2id above OWASP's floor (19 MiB, t=2, p=1). Verification runs in the
route's worker thread (routes are plain `def`, which FastAPI runs in its
thread pool), never on the event loop, and never inside a database transaction
(it would hold SQLite's write lock for its whole ~0.2 s).
"""

from __future__ import annotations

import asyncio
import os
import threading
import unicodedata
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, Request

from intake.db import ServerBusy
from intake.i18n import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 128

HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)

# Verified against when the username is unknown, so both paths cost the same.
_DUMMY_HASH = HASHER.hash("dummy password that no account has")

# Each check takes 64 MiB and a core for ~0.2 s: at most this many run at once, so a
# burst of sign-ins costs bounded memory and leaves cores for everyone else. The
# others wait up to _SLOT_WAIT_SECONDS, then are answered 503 (ServerBusy).
_SLOT_WAIT_SECONDS = 10.0
# Sign-ins queue on the event loop (no thread held) for longer: 40 at once on 2 cores
# take about 4 s to check, and an attack should slow sign-ins, not refuse them.
_QUEUE_SECONDS = 30.0
_slots = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


def checks_at_once(count: int) -> int:
    """How many password checks may run at once for a setting (0: one per core)."""
    return count or max(1, os.cpu_count() or 1)


def limit_checks_at_once(count: int) -> None:
    """Set how many password checks may run at once (0: one per core)."""
    global _slots
    _slots = threading.BoundedSemaphore(checks_at_once(count))


async def wait_for_check_slot(request: Request) -> AsyncIterator[None]:
    """A route dependency: a sign-in waits for its password-check slot on the event loop,
    before it takes a worker thread, so forty failing sign-ins hold no thread that a
    health check or a colleague's save needs. Busy past the bound: 503 (ServerBusy)."""
    slots: asyncio.Semaphore = request.app.state.password_slots
    try:
        await asyncio.wait_for(slots.acquire(), timeout=_QUEUE_SECONDS)
    except TimeoutError:
        raise ServerBusy from None
    try:
        yield
    finally:
        slots.release()


# Released as soon as the route returns, before the response is sent.
PasswordCheckSlot = Depends(wait_for_check_slot, scope="function")


@contextmanager
def _slot() -> Iterator[None]:
    slots = _slots
    if not slots.acquire(timeout=_SLOT_WAIT_SECONDS):
        raise ServerBusy
    try:
        yield
    finally:
        slots.release()


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords long enough to pass the length rule."""
    text = resources.files("intake").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def normalise(password: str) -> str:
    """Unicode NFKC, so the same password typed on two keyboards matches."""
    return unicodedata.normalize("NFKC", password)


def policy_problems(password: str, *, username: str = "") -> list[str]:
    """Why a new password is refused (empty when it is acceptable). No composition rules."""
    password = normalise(password)
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("Use at least %(n)s characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(_("Use at most %(n)s characters.", n=MAX_LENGTH))
    lowered = password.lower()
    if lowered in common_passwords() or len(set(lowered)) <= 2:
        problems.append(_("This password is too common. Choose another."))
    if username and username.lower() in lowered:
        problems.append(_("The password must not contain the username."))
    return problems


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    with _slot():
        return HASHER.hash(normalise(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password; with no stored hash, spend the same time and fail."""
    if len(password) > MAX_LENGTH * 4:
        return False
    try:
        with _slot():
            verified = HASHER.verify(stored_hash or _DUMMY_HASH, normalise(password))
        return verified and bool(stored_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's."""
    try:
        return HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
