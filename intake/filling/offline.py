"""Fillings finished on a phone without a connection, sent later as sealed records.

The phone keeps a filling's client id from its first keystroke. When it comes back
online it posts the sealed record; here it is opened, its answers become the draft's
(one transaction, as a Next would), and the draft is submitted through the same path as
an online Submit (a second transaction: the intake's case, the case's activity, the
overlap check). A record sent twice finds its submission: the same answers get the same
answer, other answers a conflict; nothing is ever overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.audit import service as audit
from intake.config import Settings
from intake.definitions import service as definitions
from intake.filling import hooks
from intake.filling import service as forms
from intake.filling.drafts import CLIENT_ID, claim, draft_row, load, messages_language, today_for
from intake.filling.models import Submission
from intake.filling.sealing import SealBroken, open_record
from intake.forms.answers import answers_to_json, posted_from_pairs, without_blank_rows
from intake.forms.definition import FormDefinition
from intake.forms.storage import answers_digest, person_answers, seal
from intake.forms.validate import validate_form
from intake.i18n import gettext as _

State = Literal["submitted", "attention", "conflict"]


def _attention() -> str:
    return _("Some answers need attention. Open the form to correct them.")


MAX_PAIRS = 2_000
MAX_VALUE = 20_000


@dataclass(frozen=True)
class Received:
    """What became of a sealed record: its state, where to look, and a message."""

    state: State
    url: str
    message: str = ""


def _pairs(payload: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = payload.get("answers")
    if not isinstance(pairs, list) or len(pairs) > MAX_PAIRS:
        raise SealBroken("no answers")
    found = []
    for pair in pairs:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(part, str) and len(part) <= MAX_VALUE for part in pair)
        ):
            raise SealBroken("not a list of (name, value) pairs")
        if not pair[0].startswith("_") and pair[0] != "csrf_token":
            found.append((pair[0], pair[1]))
    return found


def _stored(
    form: FormDefinition, base: dict[str, Any], pairs: list[tuple[str, str]], today: Any
) -> dict[str, Any]:
    """The answers as a draft keeps them: the record's over `base` (answers the phone
    never held stay as the server has them), validated whole, the person's own only."""
    posted = {**base, **without_blank_rows(form, posted_from_pairs(pairs))}
    checked = validate_form(form, answers=posted, today=today, language=messages_language(form))
    wrong = {key.partition(".")[0] for key in checked.errors}
    kept = {name: value for name, value in checked.answers.items() if name not in wrong}
    return person_answers(form, answers_to_json(kept))


def _digest(settings: Settings, form: FormDefinition, version_id: str, stored: Any) -> str:
    # As intake.filling.submissions.review computes it for the same answers.
    checked = validate_form(
        form, answers=stored, today=today_for(settings), language=messages_language(form)
    )
    answers = answers_to_json(checked.answers)
    return answers_digest(settings=settings, form=form, version_id=version_id, answers=answers)


def open_own(
    *, db: Session, settings: Settings, user: User, record: Any
) -> tuple[str, dict[str, Any]]:
    """A sealed record of `user` opened: its key id and payload; FillingNotFound otherwise."""
    key_id, payload = open_record(db=db, settings=settings, record=record)
    client_id = payload.get("client_id")
    if payload.get("owner") != user.id or not isinstance(client_id, str):
        raise forms.FillingNotFound  # another worker's record: never say it exists
    if not CLIENT_ID.fullmatch(client_id):
        raise forms.FillingNotFound
    return key_id, payload


def receive_sealed(*, db: Session, settings: Settings, user: User, record: Any) -> Received:
    """Open a sealed record of `user` and submit it once; FillingNotFound for anyone else's."""
    key_id, payload = open_own(db=db, settings=settings, user=user, record=record)
    return receive_opened(db=db, settings=settings, user=user, key_id=key_id, payload=payload)


def receive_opened(
    *, db: Session, settings: Settings, user: User, key_id: str, payload: dict[str, Any]
) -> Received:
    """Submit the filling an opened record holds once (its draft must exist by now)."""
    client_id = payload.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
        raise forms.FillingNotFound
    pairs = _pairs(payload)
    stage = payload.get("stage") if isinstance(payload.get("stage"), str) else None
    done = forms.find_submission(db=db, user=user, client_id=client_id)
    if done is not None:
        return _resent(db=db, settings=settings, user=user, submission=done, pairs=pairs)
    _keep_answers(
        db=db,
        settings=settings,
        user=user,
        client_id=client_id,
        pairs=pairs,
        key_id=key_id,
        stage=stage,
    )
    return _submit(db=db, settings=settings, user=user, client_id=client_id)


def _resent(
    *, db: Session, settings: Settings, user: User, submission: Submission, pairs: Any
) -> Received:
    """A record already submitted: the same answers are answered as before."""
    version = definitions.get_version(db=db, version_id=submission.form_version_id)
    if version is None:
        raise forms.FillingNotFound
    form = definitions.compiled_form(version)
    base = forms.submission_answers(db=db, settings=settings, submission=submission)
    stored = _stored(form, base, pairs, today_for(settings))
    url = hooks.current().next_url(db=db, user=user, submission=submission) or (
        f"/fill/{submission.client_id}"
    )
    if forms.same_digest(submission.answers_digest, _digest(settings, form, version.id, stored)):
        return Received("submitted", url)
    return Received(
        "conflict",
        url,
        _(
            "This form was already submitted with different answers. "
            "Nothing was changed; start a new form to record new answers."
        ),
    )


def _keep_answers(
    *,
    db: Session,
    settings: Settings,
    user: User,
    client_id: str,
    pairs: list[tuple[str, str]],
    key_id: str,
    stage: str | None,
) -> None:
    """The record's answers become the draft's, and the draft goes to its review."""
    draft = claim(db, user, client_id)
    if draft is None:
        db.commit()
        raise forms.FillingNotFound
    filling = load(db=db, settings=settings, draft=draft)
    stored = _stored(filling.form, filling.answers, pairs, today_for(settings))
    draft.answers = seal(settings=settings, form=filling.form, answers=stored, row=draft_row(draft))
    draft.page_index = len(filling.form.pages)
    draft.sealed_with = key_id
    if draft.case_id and stage:
        now = hooks.current().case_stage(db=db, case_id=draft.case_id)
        draft.filled_at_stage = stage if now is not None and now != stage else None
    audit.record(
        db=db,
        action="form.offline_received",
        actor_id=user.id,
        object_type="form_draft",
        object_id=draft.id,
        detail=draft.form_key,
    )
    db.commit()


def _submit(*, db: Session, settings: Settings, user: User, client_id: str) -> Received:
    """Submit the draft as the review page's Submit would, with the digest of its answers."""
    url = f"/fill/{client_id}"
    filling = forms.open_filling(db=db, settings=settings, user=user, client_id=client_id)
    checked = forms.review(settings=settings, filling=filling)
    if checked.errors:
        return Received("attention", url, _attention())
    try:
        handled = hooks.current().submit(
            db=db,
            settings=settings,
            user=user,
            client_id=client_id,
            reviewed=checked.digest,
            confirmed_new=False,
        )
        if handled is not None:
            return Received("submitted", handled)
        submission = forms.submit_draft(
            db=db, settings=settings, user=user, client_id=client_id, reviewed=checked.digest
        )
        following = hooks.current().after_submission(
            db=db, settings=settings, user=user, submission=submission
        )
    except hooks.ReviewAgain as exc:
        return Received("attention", url, str(exc))
    except forms.FormInvalid:
        return Received("attention", url, _attention())
    except forms.SubmissionConflict as exc:
        return Received("conflict", url, str(exc))
    return Received("submitted", following or url)
