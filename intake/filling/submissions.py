"""Submitting a filling: the review's digest, one submission per client id, the draft gone.

A retried or double-tapped submit finds the submission stored under its client
id; the same answers get the same submission, other answers a conflict.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.audit import service as audit
from intake.config import Settings
from intake.db import new_id, utcnow
from intake.definitions import service as definitions
from intake.definitions.models import DefinitionVersion
from intake.filling.drafts import (
    CLIENT_ID,
    AnswersChanged,
    Filling,
    FillingNotFound,
    FormInvalid,
    SubmissionConflict,
    claim,
    content_language,
    find_submission,
    load,
    messages_language,
    submission_by_client_id,
    today_for,
)
from intake.filling.models import Submission
from intake.forms.answers import answers_to_json
from intake.forms.definition import FormDefinition
from intake.forms.storage import answers_digest, seal
from intake.forms.validate import validate_form
from intake.i18n import gettext as _


@dataclass(frozen=True)
class Review:
    """The whole filling as it would be submitted, its errors, and its digest."""

    answers: dict[str, Any]
    errors: dict[str, str]
    digest: str


def review(*, settings: Settings, filling: Filling) -> Review:
    """The filling as it would be submitted now: validated whole, with its digest."""
    result = validate_form(
        filling.form,
        answers=filling.answers,
        today=today_for(settings),
        language=messages_language(filling.form),
    )
    answers = answers_to_json(result.answers)
    digest = answers_digest(
        settings=settings, form=filling.form, version_id=filling.version.id, answers=answers
    )
    return Review(answers=answers, errors=result.errors, digest=digest)


def submit_draft(
    *, db: Session, settings: Settings, user: User, client_id: str, reviewed: str
) -> Submission:
    """Submit the reviewed draft once; a retry with the same answers gets the same submission.

    `reviewed` is the digest the review page showed: the draft must still hold
    those answers, and a filling already submitted must have had them.
    """
    submission = submit_reviewed(
        db=db, settings=settings, user=user, client_id=client_id, reviewed=reviewed
    )
    db.commit()
    return submission


def submit_reviewed(
    *, db: Session, settings: Settings, user: User, client_id: str, reviewed: str
) -> Submission:
    """submit_draft without its final commit, for an action that adds to the same transaction."""
    draft = claim(db, user, client_id)
    if draft is None:
        existing = find_submission(db=db, user=user, client_id=client_id)
        if existing is None:
            raise FillingNotFound
        return _same_or_conflict(existing, reviewed, user)
    filling = load(db=db, settings=settings, draft=draft)
    checked = review(settings=settings, filling=filling)
    if checked.errors:
        db.commit()
        raise FormInvalid(checked.errors)
    if not same_digest(checked.digest, reviewed):
        db.commit()
        raise AnswersChanged(
            _("The answers changed after you reviewed them. Check them again, then submit.")
        )
    # Validated whole just now (the review): stored as checked, not validated again.
    submission = _store(
        db=db,
        settings=settings,
        user=user,
        version=filling.version,
        form=filling.form,
        client_id=client_id,
        stored=checked.answers,
        digest=checked.digest,
        language=content_language(filling.form, draft.content_language),
        case_id=draft.case_id,
    )
    if draft.sealed_with is not None and submission.client_id == draft.client_id:
        # Sent from a phone's outbox: which key it was sealed to, and the stage it saw.
        submission.sealed_with = draft.sealed_with
        submission.filled_at_stage = draft.filled_at_stage
    # The submission now holds these answers; the draft must not linger beside it.
    db.delete(draft)
    db.flush()
    return submission


def submit(
    *,
    db: Session,
    settings: Settings,
    user: User,
    version: DefinitionVersion,
    client_id: str,
    answers: Mapping[str, Any],
    language: str,
    case_id: str | None = None,
) -> Submission:
    """Validate a whole filling and store it once under its client id; the caller commits.

    The same client id with the same answers returns the stored submission; with
    other answers it raises SubmissionConflict. FormInvalid carries the errors.
    `case_id` names a case the caller has already found visible to `user`.
    """
    if not CLIENT_ID.fullmatch(client_id):
        raise FillingNotFound
    form = definitions.compiled_form(version)
    language = content_language(form, language)
    result = validate_form(form, answers=answers, today=today_for(settings), language=language)
    if not result.ok:
        raise FormInvalid(result.errors)
    stored = answers_to_json(result.answers)
    digest = answers_digest(settings=settings, form=form, version_id=version.id, answers=stored)
    return _store(
        db=db,
        settings=settings,
        user=user,
        version=version,
        form=form,
        client_id=client_id,
        stored=stored,
        digest=digest,
        language=language,
        case_id=case_id,
    )


def _store(
    *,
    db: Session,
    settings: Settings,
    user: User,
    version: DefinitionVersion,
    form: FormDefinition,
    client_id: str,
    stored: dict[str, Any],
    digest: str,
    language: str,
    case_id: str | None,
) -> Submission:
    """Store validated answers once under their client id (or find them stored)."""
    if not CLIENT_ID.fullmatch(client_id):
        raise FillingNotFound
    existing = submission_by_client_id(db, client_id)
    if existing is not None:
        return _same_or_conflict(existing, digest, user)
    submission = Submission(
        id=new_id(),
        client_id=client_id,
        answers_digest=digest,
        form_version_id=version.id,
        form_key=version.key,
        case_id=case_id,
        organisation_id=user.organisation_id,
        submitted_by_id=user.id,
        language=language,
        submitted_at=utcnow(),
    )
    submission.answers = seal(
        settings=settings, form=form, answers=stored, row=f"submission:{submission.id}"
    )
    try:
        with db.begin_nested():
            db.add(submission)
            db.flush()
    except IntegrityError:
        # Another request stored this client id between our check and our insert.
        existing = submission_by_client_id(db, client_id)
        if existing is None:
            raise
        return _same_or_conflict(existing, digest, user)
    audit.record(
        db=db,
        action="form.submitted",
        actor_id=user.id,
        object_type="submission",
        object_id=submission.id,
        detail=version.key,
    )
    return submission


def same_digest(known: str, given: str) -> bool:
    """Whether a posted digest is the known one (any text may be posted, in constant time)."""
    return secrets.compare_digest(known.encode(), given.encode())


def _same_or_conflict(existing: Submission, digest: str, user: User) -> Submission:
    if existing.submitted_by_id != user.id:
        raise FillingNotFound  # someone else's id: never confirm that it exists
    if same_digest(existing.answers_digest, digest):
        return existing
    raise SubmissionConflict(
        _(
            "This form was already submitted with different answers. "
            "Nothing was changed; start a new form to record new answers."
        )
    )
