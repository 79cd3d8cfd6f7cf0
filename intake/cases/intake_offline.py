"""An intake started on a phone without a connection, sent later as one sealed record.

The phone keeps the blank consent and intake pages (the newest versions, refreshed when
one is published), makes both client ids itself, and seals the finished pair as one
record: the consent and, when it was given, the intake form. Here the intake is opened
as the online steps open it, through the same functions: the intake started under the
consent's client id, the consent submitted (which starts the intake form's draft), then
the intake form submitted (which opens the case). Each step finds what a first sending
already did, so a resend gets the stored result, a changed one a conflict, and never a
second case.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import intake as intakes
from intake.config import Settings
from intake.filling import offline, offline_pages
from intake.filling import service as forms
from intake.filling.drafts import CLIENT_ID
from intake.filling.sealing import SealBroken
from intake.i18n import gettext as _

# The steps a phone may start without a connection, and the form of each.
STEPS = {"consent": intakes.CONSENT_FORM, "first_contact": intakes.INTAKE_FORM}
PAGES = tuple(f"/offline/intake/{step}" for step in STEPS)


def start_page(
    *, db: Session, settings: Settings, user: User, step: str
) -> offline_pages.OfflineFilling:
    """The blank page of one step of a new intake; FillingNotFound for an unknown step."""
    if step not in STEPS:
        raise forms.FillingNotFound
    start: dict[str, Any] = {"step": step, "page": f"/offline/intake/{step}"}
    if step == "consent":
        # The phone goes on to the intake form only when this answer is yes, as online.
        start.update(next=PAGES[1], gate=intakes.CONSENT_GATE)
    else:
        start.update(back=PAGES[0])
    return offline_pages.blank_offline_filling(
        db=db, settings=settings, user=user, form_key=STEPS[step], start=start
    )


def start_pages(*, db: Session, user: User, assets: str) -> dict[str, Any]:
    """The pages a phone keeps to start an intake, and a version that changes with them."""
    versions = offline_pages.latest_versions(db=db, form_keys=tuple(STEPS.values()))
    if not all(versions):
        return {"version": "", "pages": [], "owner": user.id}
    # The user and their language are in the pages; the assets are named in them.
    seed = "\x00".join([*versions, user.id, user.locale or "", assets])
    version = hashlib.sha256(seed.encode()).hexdigest()[:32]
    # The owner: the phone gets this user's key for fillings in progress while it can.
    return {"version": version, "pages": list(PAGES), "owner": user.id}


def _pair(payload: dict[str, Any]) -> tuple[str | None, list[Any] | None, str | None]:
    """The intake form's client id and answers in a record (None when consent was refused)."""
    language = payload.get("language")
    if language is not None and not (isinstance(language, str) and len(language) <= 10):
        raise SealBroken("not a language")
    pair = payload.get("intake")
    if pair is None:
        return None, None, language
    client_id = pair.get("client_id") if isinstance(pair, dict) else None
    if (
        not isinstance(client_id, str)
        or not CLIENT_ID.fullmatch(client_id)
        or client_id == payload.get("client_id")
    ):
        raise SealBroken("not an intake form")
    return client_id, pair.get("answers"), language


def _changed(url: str) -> offline.Received:
    message = _(
        "This intake was already sent with different answers. "
        "Nothing was changed; start a new intake to record new answers."
    )
    return offline.Received("conflict", url, message)


def receive_offline_intake(
    *, db: Session, settings: Settings, user: User, record: Any
) -> offline.Received:
    """Open a sealed new intake of `user` and open its case once, as the online steps do."""
    key_id, payload = offline.open_own(db=db, settings=settings, user=user, record=record)
    intake_client_id, answers, language = _pair(payload)
    intake = intakes.start_intake(
        db=db,
        settings=settings,
        user=user,
        consent_client_id=payload["client_id"],
        language=language,
        intake_client_id=intake_client_id,
    )
    if intake_client_id is not None and intake.intake_client_id != intake_client_id:
        return _changed(f"/intake/{intake.id}")
    consent = offline.receive_opened(
        db=db, settings=settings, user=user, key_id=key_id, payload=payload
    )
    if consent.state != "submitted" or intake_client_id is None:
        return consent
    step = intakes.step_of(db=db, intake=intake)
    if step == "ready":  # the first sending stopped between the two steps
        step = intakes.continue_intake(db=db, settings=settings, user=user, intake=intake)
    if step not in ("intake", "done"):  # consent refused: no intake form is ever started
        return offline.Received("submitted", intakes.url_of(db=db, intake=intake, step=step))
    filled = {"client_id": intake_client_id, "owner": user.id, "answers": answers}
    return offline.receive_opened(
        db=db, settings=settings, user=user, key_id=key_id, payload=filled
    )
