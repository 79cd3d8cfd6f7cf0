"""What a filling may belong to above this domain: a case or an intake.

The filling routes know drafts and submissions only. Whether a case may take a
form, what the review of an intake form shows, and how an intake's submission
opens its case are decided by intake.cases, which installs its Hooks when its
routes are imported. The defaults are those of a filling that belongs to nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.config import Settings
from intake.filling.drafts import Filling
from intake.filling.models import Submission


class ReviewAgain(Exception):
    """The review must be shown again with this message (409), e.g. an overlap to confirm."""


class Hooks:
    """The questions a filling route asks of the domain a filling belongs to."""

    def may_fill_in_case(self, *, db: Session, user: User, case_id: str) -> bool:
        """Whether `user` may add a form to this case (no case: never)."""
        return False

    def review_overlaps(
        self, *, db: Session, settings: Settings, user: User, filling: Filling
    ) -> Any:
        """What the review of this filling shows about possible overlaps (None: nothing)."""
        return None

    def submit(
        self,
        *,
        db: Session,
        settings: Settings,
        user: User,
        client_id: str,
        reviewed: str,
        confirmed_new: bool,
    ) -> str | None:
        """Submit a filling that belongs to something above, and say where to go; None if not."""
        return None

    def after_submission(
        self, *, db: Session, settings: Settings, user: User, submission: Submission
    ) -> str | None:
        """Where a just-submitted filling leads (None: its own confirmation page)."""
        return None

    def next_url(self, *, db: Session, user: User, submission: Submission) -> str | None:
        """Where an already submitted filling leads when opened again (reads only)."""
        return None

    def case_stage(self, *, db: Session, case_id: str) -> str | None:
        """The stage a case is at now (a form filled offline remembers the one it saw)."""
        return None


_installed: list[Hooks] = [Hooks()]


def install(hooks: Hooks) -> None:
    """Make `hooks` the ones every filling route asks (done once, by intake.cases)."""
    _installed[0] = hooks


def current() -> Hooks:
    """The hooks installed now."""
    return _installed[0]
