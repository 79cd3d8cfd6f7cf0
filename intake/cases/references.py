"""Short human references for speaking about a case on the phone: 'K7M-4QX'.

Random, never sequential, so a reference reveals nothing about how many cases
exist or when one was opened. The alphabet leaves out 0/O, 1/I/L: a reference
read aloud or typed from a handwritten note cannot be misread.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.cases.models import Case

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
GROUP = 3
# 31**6 is about 887 million: collisions stay rare for any realistic number of cases,
# and the few that happen are retried.
MAX_ATTEMPTS = 20

_TYPED = re.compile(rf"^[{ALPHABET}]{{{GROUP * 2}}}$")


class NoFreeReference(RuntimeError):
    """Every attempt collided: the reference space is far fuller than it should be."""


def generate() -> str:
    """A random reference such as 'K7M-4QX' (not checked against the database)."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUP * 2))
    return f"{chars[:GROUP]}-{chars[GROUP:]}"


def is_taken(*, db: Session, reference: str) -> bool:
    """Whether a case already carries `reference`."""
    found = db.execute(select(Case.id).where(Case.reference == reference).limit(1)).first()
    return found is not None


def unused(*, db: Session) -> str:
    """A reference no case carries yet (the unique constraint still guards a race)."""
    for _attempt in range(MAX_ATTEMPTS):
        reference = generate()
        if not is_taken(db=db, reference=reference):
            return reference
    raise NoFreeReference


def normalise(typed: str) -> str | None:
    """A reference as a person may type it ('k7m 4qx', 'K7M4QX') in stored form, else None."""
    compact = re.sub(r"[\s\-_.]", "", typed.upper())
    if not _TYPED.match(compact):
        return None
    return f"{compact[:GROUP]}-{compact[GROUP:]}"
