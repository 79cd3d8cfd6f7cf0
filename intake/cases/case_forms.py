"""Forms filled inside a case: only in a case the person may see, and each is activity on it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases.access import CaseNotFound, get_visible_case
from intake.cases.models import Case
from intake.cases.rules import touch_case
from intake.config import Settings
from intake.filling import service as forms
from intake.filling.models import FormDraft, Submission


def may_fill_in_case(*, db: Session, user: User, case_id: str) -> bool:
    """Whether `user` may add a form to this case: the cases' own need-to-know rule."""
    try:
        get_visible_case(db=db, user=user, case_id=case_id)
    except CaseNotFound:
        return False
    return True


def case_stage(*, db: Session, case_id: str) -> str | None:
    """The stage a case is at now (for a form filled offline, sent later)."""
    return db.execute(select(Case.state).where(Case.id == case_id)).scalar_one_or_none()


def case_of_draft(*, db: Session, user: User, client_id: str) -> str | None:
    """The case the user's draft under this client id is filled in, if any."""
    return db.execute(
        select(FormDraft.case_id).where(
            FormDraft.client_id == client_id, FormDraft.owner_id == user.id
        )
    ).scalar_one_or_none()


def submit_case_form(
    *, db: Session, settings: Settings, user: User, case_id: str, client_id: str, reviewed: str
) -> Submission:
    """Submit the reviewed draft of a form filled in a visible case, mark the case, and commit."""
    if not may_fill_in_case(db=db, user=user, case_id=case_id):
        raise forms.FillingNotFound
    submission = forms.submit_reviewed(
        db=db, settings=settings, user=user, client_id=client_id, reviewed=reviewed
    )
    # A form filled meanwhile is activity for the caseload, not a conflict for
    # someone advancing the case: a plain UPDATE leaves row_version alone.
    touch_case(db=db, case_id=case_id, at=submission.submitted_at)
    db.commit()
    return submission
