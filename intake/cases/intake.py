"""From a first meeting to a case: consent first, then the intake form, then the case.

An Intake row names both fillings by client ids made when the intake starts,
so a retried or double-tapped step finds the same draft, the same submission
and the same case. Submitting the intake form stores the submission, opens the
case, records its fingerprints and overlaps and writes the audit rows in one
transaction: either all of it happened or none of it did.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.audit import service as audit
from intake.cases import overlaps as overlap
from intake.cases import rules
from intake.cases import service as cases
from intake.cases.access import CaseNotFound, get_visible_case
from intake.cases.models import Case, Intake
from intake.config import Settings
from intake.db import new_id
from intake.filling import service as forms
from intake.filling.drafts import Filling
from intake.filling.models import FormDraft, Submission
from intake.i18n import gettext as _
from intake.overlap import fingerprint as fingerprinting

CONSENT_FORM = "consent"
INTAKE_FORM = "first_contact"
# The consent answer without which no intake form is started (a JSON boolean, in the clear).
CONSENT_GATE = "consent_services"
Step = Literal["consent", "refused", "ready", "intake", "done"]


class IntakeNotFound(LookupError):
    """No intake with this id started by this user (a 404, never a 403)."""


class OverlapUnconfirmed(cases.CaseError):
    """An open case of the same organisation may be this person; the worker must choose."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "An open case of your organisation may be this person. "
                "Continue that case, or confirm that you are opening a new one."
            )
        )


@dataclass(frozen=True)
class SeenOverlap:
    """An overlap as the worker may see it, and whether they may open the matching case."""

    overlap: overlap.Overlap
    may_open: bool


@dataclass(frozen=True)
class Opened:
    """The case an intake opened, and the overlaps found when it was opened."""

    case: Case
    overlaps: list[overlap.Overlap]


def fingerprint_key(settings: Settings) -> bytes:
    """A key for overlap fingerprints only, derived from the secret key with HMAC.

    A dedicated key keeps fingerprints unrelated to every other use of the
    secret (digests, tokens); rotating the secret key makes old fingerprints
    unmatchable, which fails safe (no warning) rather than open.
    """
    return hmac.new(
        settings.secret_key.encode(), b"intake/overlap-fingerprint/v1", hashlib.sha256
    ).digest()


def person_fingerprints(
    *, settings: Settings, answers: Mapping[str, Any], today: dt.date
) -> set[str]:
    """The fingerprints of the intake form's answers (in the clear, never stored so)."""
    birth = answers.get("birth_date")
    try:
        birth_date = dt.date.fromisoformat(birth) if isinstance(birth, str) else None
    except ValueError:
        birth_date = None
    age = answers.get("age")
    return fingerprinting.fingerprints(
        key=fingerprint_key(settings),
        given=str(answers.get("given_name") or ""),
        family=str(answers.get("family_name") or ""),
        birth_date=birth_date,
        age=age if isinstance(age, int) else None,
        today=today,
    )


# --- finding an intake ----------------------------------------------------------------


def get_intake(*, db: Session, user: User, intake_id: str) -> Intake:
    """The user's own intake; IntakeNotFound for anyone else's or a made-up id."""
    found = db.execute(
        select(Intake).where(Intake.id == intake_id[:32], Intake.owner_id == user.id)
    ).scalar_one_or_none()
    if found is None:
        raise IntakeNotFound
    return found


def intake_of_filling(*, db: Session, user: User, client_id: str) -> Intake | None:
    """The user's intake whose intake form is filled under this client id."""
    return db.execute(
        select(Intake).where(Intake.intake_client_id == client_id, Intake.owner_id == user.id)
    ).scalar_one_or_none()


def _intake_of_consent(*, db: Session, user: User, client_id: str) -> Intake | None:
    return db.execute(
        select(Intake).where(Intake.consent_client_id == client_id, Intake.owner_id == user.id)
    ).scalar_one_or_none()


# --- the steps ------------------------------------------------------------------------


def start_intake(
    *,
    db: Session,
    settings: Settings,
    user: User,
    consent_client_id: str,
    language: str | None,
    intake_client_id: str | None = None,
) -> Intake:
    """Start an intake with its consent filling (the same client id again resumes it); commits.

    A phone that started the intake without a connection made both client ids itself.
    """
    existing = _intake_of_consent(db=db, user=user, client_id=consent_client_id)
    if existing is not None:
        return existing
    draft = forms.start_filling(
        db=db,
        settings=settings,
        user=user,
        form_key=CONSENT_FORM,
        client_id=consent_client_id,
        language=language,
    )
    intake = Intake(
        id=new_id(),
        owner_id=user.id,
        organisation_id=user.organisation_id,
        consent_client_id=consent_client_id,
        intake_client_id=intake_client_id or forms.new_client_id(),
        language=draft.content_language,
    )
    try:
        with db.begin_nested():
            db.add(intake)
            db.flush()
    except IntegrityError:
        # A double tap on Start: the first request's intake is the one.
        found = _intake_of_consent(db=db, user=user, client_id=consent_client_id)
        if found is None:
            raise forms.FillingNotFound from None
        return found
    audit.record(
        db=db, action="intake.started", actor_id=user.id, object_type="intake", object_id=intake.id
    )
    db.commit()
    return intake


def _consent(db: Session, intake: Intake) -> Submission | None:
    return db.execute(
        select(Submission).where(
            Submission.client_id == intake.consent_client_id,
            Submission.submitted_by_id == intake.owner_id,
        )
    ).scalar_one_or_none()


def _services_consented(submission: Submission) -> bool:
    # consent_services is not sensitive: it is stored in the clear, a JSON boolean.
    answers = submission.answers if isinstance(submission.answers, dict) else {}
    return answers.get(CONSENT_GATE) is True


def step_of(*, db: Session, intake: Intake) -> Step:
    """Where the intake stands now (reads only)."""
    if intake.case_id is not None:
        return "done"
    consent = _consent(db, intake)
    if consent is None:
        return "consent"
    if not _services_consented(consent):
        return "refused"
    draft = db.execute(
        select(FormDraft.id).where(FormDraft.client_id == intake.intake_client_id)
    ).first()
    if draft is not None:
        return "intake"
    submitted = db.execute(
        select(Submission.case_id).where(Submission.client_id == intake.intake_client_id)
    ).first()
    return "done" if submitted is not None and submitted[0] else "ready"


def continue_intake(*, db: Session, settings: Settings, user: User, intake: Intake) -> Step:
    """After consent: open the intake form's draft, or record that consent was refused; commits."""
    step = step_of(db=db, intake=intake)
    if step == "refused" and intake.consent_submission_id is None:
        consent = _consent(db, intake)
        intake.consent_submission_id = consent.id if consent else None
        audit.record(
            db=db,
            action="intake.refused",
            actor_id=user.id,
            object_type="intake",
            object_id=intake.id,
            outcome="refused",
            detail="consent_services",
        )
        db.commit()
    if step != "ready":
        return step
    consent = _consent(db, intake)
    intake.consent_submission_id = consent.id if consent else None
    forms.start_filling(
        db=db,
        settings=settings,
        user=user,
        form_key=INTAKE_FORM,
        client_id=intake.intake_client_id,
        language=intake.language,
    )
    return "intake"


def url_of(*, db: Session, intake: Intake, step: Step) -> str:
    """Where the person goes for this step of the intake."""
    if step == "consent":
        return f"/fill/{intake.consent_client_id}"
    if step == "intake":
        return f"/fill/{intake.intake_client_id}"
    if step == "done":
        case_id = (
            intake.case_id
            or db.execute(
                select(Submission.case_id).where(Submission.client_id == intake.intake_client_id)
            ).scalar_one_or_none()
        )
        return f"/cases/{case_id}"
    return f"/intake/{intake.id}"


def after_submission(
    *, db: Session, settings: Settings, user: User, submission: Submission
) -> str | None:
    """Where a just-submitted filling leads: its case, the next intake step, or None."""
    if submission.case_id is not None:
        return f"/cases/{submission.case_id}"
    intake = _intake_of_consent(db=db, user=user, client_id=submission.client_id)
    if intake is None:
        return None
    step = continue_intake(db=db, settings=settings, user=user, intake=intake)
    return url_of(db=db, intake=intake, step=step)


def next_url(*, db: Session, user: User, submission: Submission) -> str | None:
    """Where an already submitted filling leads when opened again (reads only)."""
    if submission.case_id is not None:
        return f"/cases/{submission.case_id}"
    intake = _intake_of_consent(db=db, user=user, client_id=submission.client_id)
    return f"/intake/{intake.id}" if intake is not None else None


# --- overlaps and the case ---------------------------------------------------------------


def review_overlaps(
    *, db: Session, settings: Settings, user: User, filling: Filling
) -> list[SeenOverlap] | None:
    """For the review of an intake form: open cases that may be this person; None otherwise."""
    intake = intake_of_filling(db=db, user=user, client_id=filling.draft.client_id)
    if intake is None:
        return None
    prints = person_fingerprints(
        settings=settings, answers=filling.answers, today=forms.today_for(settings)
    )
    # Every lookup is audited, naming who asked (intake.cases.overlaps).
    found = overlap.review_lookup(db=db, fingerprints=prints, asker=user, intake_id=intake.id)
    return [SeenOverlap(o, _may_open(db, user, o.case_id)) for o in found]


def _may_open(db: Session, user: User, case_id: str | None) -> bool:
    if case_id is None:
        return False
    try:
        get_visible_case(db=db, user=user, case_id=case_id)
    except CaseNotFound:
        return False
    return True


def submit_intake(
    *,
    db: Session,
    settings: Settings,
    user: User,
    intake: Intake,
    reviewed: str,
    confirmed_new: bool,
) -> Opened:
    """Submit the intake form and open its case in one transaction; a retry gets the same case."""
    submission = forms.submit_reviewed(
        db=db, settings=settings, user=user, client_id=intake.intake_client_id, reviewed=reviewed
    )
    if submission.case_id is not None:  # a retry or a double tap: the case exists
        db.commit()
        case = db.get(Case, submission.case_id)
        assert case is not None  # a foreign key guarantees it
        return Opened(case, [])
    consent = _consent(db, intake)
    if consent is None or not _services_consented(consent):
        db.rollback()
        raise forms.FillingNotFound
    today = forms.today_for(settings)
    answers = forms.submission_answers(db=db, settings=settings, submission=submission)
    prints = person_fingerprints(settings=settings, answers=answers, today=today)
    matches = overlap.find_open_matches(db=db, fingerprints=prints, asker=user, intake_id=intake.id)
    if not confirmed_new and any(m.same_organisation for m in matches):
        db.rollback()  # the submission is not kept: the worker may continue the other case
        raise OverlapUnconfirmed
    readable = {
        **rules.readable_answers(db=db, submission=consent),
        **rules.readable_answers(db=db, submission=submission),
    }
    case = cases.create_case(
        db=db,
        actor=user,
        intake_answers=readable,
        submission_ids=[consent.id, submission.id],
        today=today,
    )
    found = overlap.record_case(db=db, case=case, fingerprints=prints, actor=user)
    intake.case_id = case.id
    intake.consent_submission_id = consent.id
    db.commit()
    return Opened(case, found)
