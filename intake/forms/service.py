"""Filling a form: a draft saved page by page, a review, and one submission per filling.

The page makes a client id when the filling starts; the draft and, later, the
submission carry it, so a retried or double-tapped submit is recognised
instead of stored twice. The form engine (intake.forms.validate) judges every
answer; this module decides what is kept, where, and sealed how.

Every action that writes first claims the draft with an UPDATE (filling.claim).
On PostgreSQL that row lock queues a second request for the same filling
behind the first; on SQLite the database write lock does, and ending the
request's read snapshot first keeps WAL from refusing a write that follows
reads made before another writer committed.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.audit import service as audit
from intake.cases.models import Case
from intake.config import Settings
from intake.db import new_id, utcnow
from intake.definitions import service as definitions
from intake.definitions.models import DefinitionVersion
from intake.forms.answers import answers_to_json
from intake.forms.definition import FormDefinition
from intake.forms.filling import (
    CLIENT_ID,
    AnswersChanged,
    Filling,
    FillingNotFound,
    FormInvalid,
    SubmissionConflict,
    build,
    claim,
    content_language,
    draft_query,
    draft_row,
    end_read_snapshot,
    load,
    may_fill_in_case,
    messages_language,
    new_client_id,
    submission_by_client_id,
    today_for,
    without_blank_rows,
)
from intake.forms.models import FormDraft, Submission
from intake.forms.storage import answers_digest, person_answers, seal, unseal
from intake.forms.validate import validate_form, validate_page
from intake.i18n import gettext as _

Move = Literal["next", "back"]


@dataclass(frozen=True)
class PageSave:
    """What saving a page did: the filling as it now stands, and any errors."""

    filling: Filling
    errors: dict[str, str]


@dataclass(frozen=True)
class Review:
    """The whole filling as it would be submitted, its errors, and its digest."""

    answers: dict[str, Any]
    errors: dict[str, str]
    digest: str


# --- reading -----------------------------------------------------------------------


def open_filling(*, db: Session, settings: Settings, user: User, client_id: str) -> Filling:
    """The user's own draft under this client id; FillingNotFound for anyone else's."""
    draft = db.execute(draft_query(user, client_id)).scalar_one_or_none()
    if draft is None:
        raise FillingNotFound
    return load(db=db, settings=settings, draft=draft)


def my_drafts(*, db: Session, user: User) -> list[tuple[FormDraft, FormDefinition]]:
    """The user's drafts, most recently saved first, each with its form (only the owner's)."""
    drafts = db.execute(
        select(FormDraft).where(FormDraft.owner_id == user.id).order_by(FormDraft.updated_at.desc())
    ).scalars()
    found = []
    for draft in drafts:
        version = definitions.get_version(db=db, version_id=draft.form_version_id)
        if version is not None:
            found.append((draft, definitions.compiled_form(version)))
    return found


def startable_forms(*, db: Session) -> list[FormDefinition]:
    """The newest version of every published form."""
    return [
        definitions.compiled_form(version)
        for version in definitions.latest_of_kind(db=db, kind="form")
    ]


def form_to_start(*, db: Session, form_key: str) -> FormDefinition:
    """The newest version of one form; FillingNotFound if there is none."""
    version = definitions.latest(db=db, kind="form", key=form_key)
    if version is None:
        raise FillingNotFound
    return definitions.compiled_form(version)


def find_submission(*, db: Session, user: User, client_id: str) -> Submission | None:
    """The user's own submission made under this client id."""
    submission = submission_by_client_id(db, client_id)
    return submission if submission and submission.submitted_by_id == user.id else None


def submission_answers(
    *, db: Session, settings: Settings, submission: Submission
) -> dict[str, Any]:
    """A submission's answers with sensitive ones decrypted (for those with need to know)."""
    version = definitions.get_version(db=db, version_id=submission.form_version_id)
    if version is None:
        raise FillingNotFound
    return unseal(
        settings=settings,
        form=definitions.compiled_form(version),
        stored=submission.answers,
        row=f"submission:{submission.id}",
    )


# --- drafts ------------------------------------------------------------------------


def start_filling(
    *,
    db: Session,
    settings: Settings,
    user: User,
    form_key: str,
    client_id: str | None = None,
    language: str | None = None,
    case_id: str | None = None,
) -> FormDraft:
    """A draft of the newest version of a form; the same client id again returns it."""
    client_id = client_id or new_client_id()
    if not CLIENT_ID.fullmatch(client_id):
        raise FillingNotFound
    version = definitions.latest(db=db, kind="form", key=form_key)
    if version is None or (case_id and not may_fill_in_case(db=db, user=user, case_id=case_id)):
        raise FillingNotFound
    form = definitions.compiled_form(version)
    end_read_snapshot(db)
    if submission_by_client_id(db, client_id) is not None:
        raise FillingNotFound  # a filling is never reopened once submitted
    draft = FormDraft(
        id=new_id(),
        client_id=client_id,
        form_version_id=version.id,
        form_key=form_key,
        owner_id=user.id,
        organisation_id=user.organisation_id,
        case_id=case_id,
        content_language=content_language(form, language or user.locale),
        page_index=0,
        answers={},
    )
    try:
        with db.begin_nested():
            db.add(draft)
            db.flush()
    except IntegrityError:
        # A double tap on Start, or an id already used: only the same filling is resumed.
        existing = db.execute(draft_query(user, client_id)).scalar_one_or_none()
        if existing is None or existing.form_key != form_key:
            raise FillingNotFound from None
        return existing
    filling = build(draft, version, form, {}, today_for(settings))
    draft.page_index = filling.asked[0] if filling.asked else len(form.pages)
    audit.record(
        db=db,
        action="form.draft_started",
        actor_id=user.id,
        object_type="form_draft",
        object_id=draft.id,
        detail=form_key,
    )
    db.commit()
    return draft


def _claimed(db: Session, settings: Settings, user: User, client_id: str) -> Filling:
    draft = claim(db, user, client_id)
    if draft is None:
        raise FillingNotFound
    return load(db=db, settings=settings, draft=draft)


def save_page(
    *,
    db: Session,
    settings: Settings,
    user: User,
    client_id: str,
    posted: Mapping[str, Any],
    move: Move,
) -> PageSave:
    """Check the current page and keep its answers, then move on (or back).

    Moving on needs a page without errors; moving back keeps the answers that
    passed and forgets only the wrong ones, so going back never loses work.
    """
    filling = _claimed(db, settings, user, client_id)
    page = filling.page
    if page is None:  # on the review step there is nothing to save
        if move == "back" and filling.asked:
            filling.draft.page_index = filling.asked[-1]
        db.commit()
        return PageSave(filling, {})
    today = today_for(settings)
    result = validate_page(
        filling.form,
        page=page.name,
        posted=without_blank_rows(filling.form, posted),
        answers=filling.answers,
        today=today,
        language=messages_language(filling.form),
    )
    if result.errors and move == "next":
        db.commit()
        return PageSave(filling, result.errors)
    wrong = {key.partition(".")[0] for key in result.errors}
    kept = {name: value for name, value in result.answers.items() if name not in wrong}
    on_page = {f.name for f in page.fields}
    answers = {
        **{name: value for name, value in filling.answers.items() if name not in on_page},
        **person_answers(filling.form, answers_to_json(kept)),
    }
    moved = build(filling.draft, filling.version, filling.form, answers, today)
    draft = moved.draft
    draft.answers = seal(settings=settings, form=moved.form, answers=answers, row=draft_row(draft))
    draft.page_index = _neighbour(moved, draft.page_index, move)
    draft.updated_at = utcnow()
    db.commit()
    return PageSave(moved, {})


def _neighbour(filling: Filling, index: int, move: Move) -> int:
    if move == "next":
        return next((i for i in filling.asked if i > index), len(filling.form.pages))
    return next((i for i in reversed(filling.asked) if i < index), index)


def go_to_page(
    *, db: Session, settings: Settings, user: User, client_id: str, page_index: int
) -> Filling:
    """Open an earlier page from the review (only a page that is asked)."""
    filling = _claimed(db, settings, user, client_id)
    if page_index in filling.asked:
        filling.draft.page_index = page_index
    db.commit()
    return filling


def set_content_language(
    *, db: Session, settings: Settings, user: User, client_id: str, language: str
) -> Filling:
    """Show the questions in another of the form's languages (the interface keeps its own)."""
    filling = _claimed(db, settings, user, client_id)
    if language not in filling.form.languages:
        db.commit()
        raise ValueError(_("This form is not available in that language."))
    filling.draft.content_language = language
    db.commit()
    return filling


# --- submission --------------------------------------------------------------------


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
    if not secrets.compare_digest(checked.digest, reviewed):
        db.commit()
        raise AnswersChanged(
            _("The answers changed after you reviewed them. Check them again, then submit.")
        )
    submission = submit(
        db=db,
        settings=settings,
        user=user,
        version=filling.version,
        client_id=client_id,
        answers=filling.answers,
        language=draft.content_language,
        case_id=draft.case_id,
    )
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
    """
    if not CLIENT_ID.fullmatch(client_id):
        raise FillingNotFound
    if case_id is not None and not may_fill_in_case(db=db, user=user, case_id=case_id):
        raise FillingNotFound
    form = definitions.compiled_form(version)
    language = content_language(form, language)
    result = validate_form(form, answers=answers, today=today_for(settings), language=language)
    if not result.ok:
        raise FormInvalid(result.errors)
    stored = answers_to_json(result.answers)
    digest = answers_digest(settings=settings, form=form, version_id=version.id, answers=stored)
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
    if case_id is not None:
        # A plain UPDATE leaves the case's row_version alone: a form filled meanwhile
        # is activity for the caseload, not a conflict for someone advancing the case.
        db.execute(
            update(Case).where(Case.id == case_id).values(last_activity_at=submission.submitted_at)
        )
    audit.record(
        db=db,
        action="form.submitted",
        actor_id=user.id,
        object_type="submission",
        object_id=submission.id,
        detail=version.key,
    )
    return submission


def _same_or_conflict(existing: Submission, digest: str, user: User) -> Submission:
    if existing.submitted_by_id != user.id:
        raise FillingNotFound  # someone else's id: never confirm that it exists
    if secrets.compare_digest(existing.answers_digest, digest):
        return existing
    raise SubmissionConflict(
        _(
            "This form was already submitted with different answers. "
            "Nothing was changed; start a new form to record new answers."
        )
    )
