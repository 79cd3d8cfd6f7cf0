"""A filling in progress as the service sees it: the draft, its form, its answers decrypted.

Also the small rules every filling action shares: what a client id looks like,
which day `today()` is, and how a draft is claimed before it is written.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.config import Settings
from intake.definitions import service as definitions
from intake.definitions.models import DefinitionVersion
from intake.filling.models import FormDraft, Submission
from intake.forms.answers import answers_to_json
from intake.forms.definition import FormDefinition, PageDef
from intake.forms.storage import unseal
from intake.forms.validate import validate_form
from intake.i18n import get_locale

# What a page may use as a client id: random, URL-safe, long enough not to be guessed.
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


class FillingNotFound(LookupError):
    """No such form, draft or submission for this user (shown as a 404, never a 403)."""


class SubmissionConflict(Exception):
    """The client id was already used for different answers; the message is for the person."""


class AnswersChanged(SubmissionConflict):
    """The draft changed after the person reviewed it (another tab, another device)."""


class FormInvalid(Exception):
    """The whole form does not pass validation; `errors` maps field keys to messages."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("the form has errors")
        self.errors = dict(errors)


@dataclass(frozen=True)
class Filling:
    """A draft with its compiled form, its answers in the clear, and the pages asked."""

    draft: FormDraft
    version: DefinitionVersion
    form: FormDefinition
    answers: dict[str, Any]  # what the person answered, JSON values, decrypted
    settled: dict[str, Any]  # the same with relevance settled and calculations made
    asked: tuple[int, ...]  # indexes of pages whose `relevant` holds

    @property
    def content_language(self) -> str:
        """The language the questions are shown in."""
        return self.draft.content_language

    @property
    def on_review(self) -> bool:
        return self.draft.page_index >= len(self.form.pages)

    @property
    def page(self) -> PageDef | None:
        """The page being filled; None on the review step."""
        return None if self.on_review else self.form.pages[self.draft.page_index]

    @property
    def page_number(self) -> int:
        """1-based position of the current page among the pages asked."""
        return len([i for i in self.asked if i < self.draft.page_index]) + 1


def today_for(settings: Settings) -> dt.date:
    """Today's date where the organisation works (expressions read `today()`)."""
    return dt.datetime.now(ZoneInfo(settings.timezone)).date()


def new_client_id() -> str:
    """A random id for a filling, for a page that did not make its own."""
    return secrets.token_urlsafe(18)


def content_language(form: FormDefinition, wanted: str | None) -> str:
    """`wanted` if the form is written in it, else the form's first language."""
    return wanted if wanted and wanted in form.languages else form.default_language


def messages_language(form: FormDefinition) -> str:
    """The language of a form's own error messages: the worker reads and fixes the answers."""
    return content_language(form, get_locale())


def draft_row(draft: FormDraft) -> str:
    """The encryption context prefix of a draft's sensitive answers."""
    return f"draft:{draft.id}"


def draft_query(user: User, client_id: str) -> Select[FormDraft]:
    """The user's own draft under a client id (nobody else's, whatever their role)."""
    return select(FormDraft).where(FormDraft.client_id == client_id, FormDraft.owner_id == user.id)


def submission_by_client_id(db: Session, client_id: str) -> Submission | None:
    """The submission stored under a client id, whoever made it."""
    return db.execute(
        select(Submission).where(Submission.client_id == client_id)
    ).scalar_one_or_none()


def load(*, db: Session, settings: Settings, draft: FormDraft) -> Filling:
    """The filling of a draft, on the form version it started with."""
    version = definitions.get_version(db=db, version_id=draft.form_version_id)
    if version is None:  # versions are never deleted; this is a damaged database
        raise FillingNotFound
    form = definitions.compiled_form(version)
    answers = unseal(settings=settings, form=form, stored=draft.answers or {}, row=draft_row(draft))
    return build(draft, version, form, answers, today_for(settings))


def build(
    draft: FormDraft,
    version: DefinitionVersion,
    form: FormDefinition,
    answers: dict[str, Any],
    today: dt.date,
) -> Filling:
    """A filling for these answers: relevance settled, calculations made, pages chosen."""
    settled = answers_to_json(
        validate_form(form, answers=answers, today=today, language=draft.content_language).answers
    )
    asked = tuple(
        index
        for index, page in enumerate(form.pages)
        if page.relevant is None or page.relevant.is_true(settled, today=today)
    )
    return Filling(draft, version, form, answers, settled, asked)


def claim(db: Session, user: User, client_id: str) -> FormDraft | None:
    """Lock the user's draft for this request's write (see intake.filling.service)."""
    claimed = db.execute(
        update(FormDraft)
        .where(FormDraft.client_id == client_id, FormDraft.owner_id == user.id)
        .values(page_index=FormDraft.page_index)
        .execution_options(synchronize_session=False)
    )
    if not getattr(claimed, "rowcount", 0):
        return None
    return db.execute(
        draft_query(user, client_id).execution_options(populate_existing=True)
    ).scalar_one()


def find_submission(*, db: Session, user: User, client_id: str) -> Submission | None:
    """The user's own submission made under this client id."""
    submission = submission_by_client_id(db, client_id)
    return submission if submission and submission.submitted_by_id == user.id else None
