"""A whole filling in one page, for a phone to go on with when the connection is gone.

Every page of the form is drawn by the same macros as online, blank: the answers live on
the phone, encrypted (static/js/offline-store.js), never in the cached page. What the
phone needs to judge answers as the server does rides along as data: each page's and
question's `relevant`, `required`, the constraint and its message, the calculations.
The server stays authoritative: it judges the whole filling again when it arrives.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.config import Settings
from intake.definitions import service as definitions
from intake.filling import hooks
from intake.filling.drafts import (
    Filling,
    FillingNotFound,
    build,
    content_language,
    messages_language,
    today_for,
)
from intake.filling.models import FormDraft
from intake.forms import rendering
from intake.forms.definition import FormDefinition


@dataclass(frozen=True)
class OfflinePage:
    index: int
    view: rendering.PageView
    relevant: Any  # the page's rule as JSON, or None


@dataclass(frozen=True)
class OfflineFilling:
    """What the offline page draws and what its script needs."""

    title: str
    language: str
    pages: list[OfflinePage]
    logic: dict[str, Any]
    checks: dict[str, Any]
    meta: dict[str, Any]


def _checks(form: FormDefinition, language: str) -> dict[str, Any]:
    """Per question: required, and its constraint with the message the server would give."""
    checks: dict[str, Any] = {}
    for name, f in form.fields.items():
        if not f.is_answered_by_person:
            continue
        checks[name] = {
            "type": str(f.type),
            "required": f.required,
            "required_when": f.required_when.to_json() if f.required_when else None,
            "constraint": f.constraint.to_json() if f.constraint else None,
            "message": form.text(f.constraint_message, language) if f.constraint else "",
        }
    return checks


def _calculations(form: FormDefinition) -> list[list[Any]]:
    found = []
    for name in form.calculation_order:
        calc = form.fields[name]
        if calc.repeat is None and calc.calculation is not None:
            found.append([name, calc.calculation.to_json()])
    return found


def offline_filling(
    *, db: Session, settings: Settings, user: User, filling: Filling
) -> OfflineFilling:
    """Every page of `filling`'s form, blank, with the rules to fill it on the phone."""
    form, today = filling.form, today_for(settings)
    blank = dataclasses.replace(filling, answers={}, settled={})
    pages = []
    for index, page in enumerate(form.pages):
        draft = SimpleNamespace(
            page_index=index,
            content_language=filling.content_language,
            client_id=filling.draft.client_id,
        )
        at_page = dataclasses.replace(blank, draft=cast(FormDraft, draft))
        view = rendering.page_view(at_page, posted={}, errors={}, today=today)
        relevant = page.relevant.to_json() if page.relevant else None
        pages.append(OfflinePage(index, view, relevant))
    case_id = filling.draft.case_id
    stage = hooks.current().case_stage(db=db, case_id=case_id) if case_id else None
    meta = {
        "client_id": filling.draft.client_id,
        "owner": user.id,
        "form_key": form.id,
        "version": filling.version.id,
        "title": form.text(form.title, messages_language(form)),
        "stage": stage,
        "language": filling.content_language,
    }
    return OfflineFilling(
        title=form.text(form.title, filling.content_language),
        language=filling.content_language,
        pages=pages,
        logic={"today": today.isoformat(), "context": {}, "calculations": _calculations(form)},
        checks=_checks(form, messages_language(form)),
        meta=meta,
    )


# A blank page's stand-in: the phone puts in the client id it mints for the filling.
BLANK_ID = "new-offline-filling"


def blank_offline_filling(
    *, db: Session, settings: Settings, user: User, form_key: str, start: dict[str, Any]
) -> OfflineFilling:
    """The newest version of a form, blank, to be started on the phone without a connection.

    `start` tells the phone's script where this filling stands in what it starts (its
    step, where to go next); the server decides it, the phone only follows it.
    """
    version = definitions.latest(db=db, kind="form", key=form_key)
    if version is None:
        raise FillingNotFound
    form = definitions.compiled_form(version)
    draft = SimpleNamespace(
        client_id=BLANK_ID,
        content_language=content_language(form, user.locale),
        case_id=None,
        page_index=0,
    )
    filling = build(cast(FormDraft, draft), version, form, {}, today_for(settings))
    found = offline_filling(db=db, settings=settings, user=user, filling=filling)
    return dataclasses.replace(found, meta={**found.meta, "start": start})


def latest_versions(*, db: Session, form_keys: tuple[str, ...]) -> list[str]:
    """The ids of the newest published versions of these forms ("" for one with none)."""
    found = []
    for key in form_keys:
        version = definitions.latest(db=db, kind="form", key=key)
        found.append(version.id if version is not None else "")
    return found


def device_key(*, settings: Settings, user: User, device: str) -> bytes:
    """The key this user's fillings in progress are encrypted with on one phone.

    Derived, not stored: the phone forgets it at sign-out and asks again at the next
    sign-in; another user on the same phone gets another key and cannot read them.
    """
    message = f"intake offline device key\x00{user.id}\x00{device}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).digest()
