"""Filling a form: a draft saved page by page, a review, and one submission per filling.

The page makes a client id when the filling starts; the draft and, later, the
submission carry it, so a retried or double-tapped submit is recognised
instead of stored twice. The form engine (intake.forms.validate) judges every
answer; this module decides what is kept, where, and sealed how.

Every action that writes first claims the draft with an UPDATE (filling.claim).
On PostgreSQL that row lock queues a second request for the same filling
behind the first; on SQLite the database write lock does, taken by the
request's first statement (intake.db), so no read is refused its upgrade.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.audit import service as audit
from intake.config import Settings
from intake.db import new_id, utcnow
from intake.definitions import service as definitions
from intake.filling.drafts import (
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
    find_submission,
    load,
    messages_language,
    new_client_id,
    submission_by_client_id,
    today_for,
)
from intake.filling.models import FormDraft, Submission
from intake.filling.submissions import (
    Review,
    review,
    same_digest,
    submit,
    submit_draft,
    submit_reviewed,
)
from intake.forms.answers import answers_to_json, without_blank_rows
from intake.forms.definition import FormDefinition
from intake.forms.storage import person_answers, seal, unseal
from intake.forms.validate import validate_page
from intake.i18n import gettext as _

__all__ = [  # the filling routes and intake.cases use this module as the domain's one door
    "AnswersChanged",
    "FillingNotFound",
    "FormInvalid",
    "Review",
    "SubmissionConflict",
    "find_submission",
    "new_client_id",
    "review",
    "same_digest",
    "submission_answers",
    "submit",
    "submit_draft",
    "submit_reviewed",
    "today_for",
]

Move = Literal["next", "back"]


@dataclass(frozen=True)
class PageSave:
    """What saving a page did: the filling as it now stands, and any errors."""

    filling: Filling
    errors: dict[str, str]


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
    """A draft of the newest version of a form; the same client id again returns it.

    `case_id` names a case the caller has already found visible to `user`
    (intake.cases.case_forms): this domain knows no case rules.
    """
    client_id = client_id or new_client_id()
    if not CLIENT_ID.fullmatch(client_id):
        raise FillingNotFound
    version = definitions.latest(db=db, kind="form", key=form_key)
    if version is None:
        raise FillingNotFound
    form = definitions.compiled_form(version)
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
