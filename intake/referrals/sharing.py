"""What a referral's receiving side sees of the shared forms, asked of the consent at every read.

Both sides see which forms were shared; only the receiving side sees their answers, and
only while the person's latest consent allows the referral to that kind of organisation
(intake.cases.consent.may_share). Sensitive answers are shown only when the consent
covers sharing with that kind too. Every read is audited, a withheld one as well.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit import service as audit
from intake.cases import consent
from intake.cases.answers import Answer
from intake.cases.models import Case
from intake.cases.rules import reader_language
from intake.config import Settings
from intake.db import write_transaction
from intake.forms.definition import FormDefinition
from intake.forms.rendering import display
from intake.forms.schema import FieldType
from intake.forms.storage import sealed_names, unseal
from intake.referrals.common import DECLINED, copies_of, form_of
from intake.referrals.models import Referral, ReferralForm


@dataclass(frozen=True)
class SharedForm:
    title: str
    submitted_at: dt.datetime
    answers: list[Answer]
    withheld: int


@dataclass(frozen=True)
class SharedView:
    """The shared forms as one side may see them now."""

    titles: list[str]  # the forms that were shared
    forms: list[SharedForm]  # their answers (receiving side, while the consent allows)
    withdrawn: bool  # the consent no longer allows the referral: nothing is shown


def _repeat_text(form: FormDefinition, field: Any, value: Any, language: str) -> str:
    if not isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return " | ".join(
        "; ".join(
            f"{form.text(m.label, language)}: {display(m, row[m.name], language)}"
            for m in field.fields
            if isinstance(row, dict) and row.get(m.name) is not None
        )
        for row in value
    )


def readable_answers(
    form: FormDefinition, stored: Mapping[str, Any], hidden: frozenset[str]
) -> tuple[list[Answer], int]:
    """The person's answers in the reader's language, and how many `hidden` ones were left out."""
    language = reader_language(form.languages)
    shown, withheld = [], 0
    for f in form.top_level_fields():
        value = stored.get(f.name)
        if not f.is_answered_by_person or value in (None, "", []):
            continue
        if f.name in hidden:
            withheld += 1
            continue
        if f.type == FieldType.REPEAT:
            text = _repeat_text(form, f, value, language)
        else:
            text = display(f, value, language)
        shown.append(Answer(form.text(f.label, language), text))
    return shown, withheld


def _allowed(db: Session, referral: Referral) -> tuple[bool, bool]:
    """(referral allowed, sensitive allowed) by the latest consent, now."""
    case = db.get(Case, referral.case_id)
    target = db.get(Organisation, referral.to_organisation_id)
    if case is None or target is None:
        return False, False
    kind = consent.recipient_kind_of(target)
    allowed = bool(
        consent.may_share(db=db, case=case, purpose=consent.Purpose.REFERRAL, recipient_kind=kind)
    )
    sensitive = allowed and bool(
        consent.may_share(db=db, case=case, purpose=consent.Purpose.SHARING, recipient_kind=kind)
    )
    return allowed, sensitive


def _shown(
    settings: Settings, form: FormDefinition, copy: ReferralForm, sensitive: bool
) -> SharedForm:
    stored = copy.answers if isinstance(copy.answers, dict) else {}
    hidden = sealed_names(form)
    if sensitive and copy.sensitive_included:
        stored = unseal(settings=settings, form=form, stored=stored, row=f"referral_form:{copy.id}")
        hidden = frozenset()
    shown, withheld = readable_answers(form, stored, hidden)
    return SharedForm(
        title=form.text(form.title, reader_language(form.languages)),
        submitted_at=copy.submitted_at,
        answers=shown,
        withheld=withheld,
    )


def shared_view(
    *, db: Session, settings: Settings, user: User, referral: Referral, side: str
) -> SharedView:
    """The shared forms: titles for both sides, answers for the receiving side only while
    the person's latest consent allows the referral (asked now, at every read); audited."""
    copies = copies_of(db, referral.id)
    compiled = [(copy, form_of(db, copy.form_version_id)) for copy in copies]
    titles = [
        form.text(form.title, reader_language(form.languages)) if form else copy.form_key
        for copy, form in compiled
    ]
    if side != "receiver" or referral.status == DECLINED or not copies:
        return SharedView(titles, [], withdrawn=False)
    allowed, sensitive = _allowed(db, referral)
    forms = (
        [_shown(settings, form, copy, sensitive) for copy, form in compiled if form is not None]
        if allowed
        else []
    )
    with write_transaction(db):
        audit.record(
            db=db,
            action="referral.forms_viewed" if allowed else "referral.forms_withheld",
            actor_id=user.id,
            object_type="referral",
            object_id=referral.id,
            detail=f"forms={len(forms)} sensitive={int(sensitive)}",
        )
    return SharedView(titles, forms, withdrawn=not allowed)
