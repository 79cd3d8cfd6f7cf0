"""External bodies (a country's counterpart, without accounts) and safe-return referrals to one.

An organisation's administrators register the bodies it works with (no case data on the
way). A supervisor or a team member refers a person for a safe return to one of them when
the person's latest consent allows return (intake.cases.consent.may_share); the summary
for the body carries the case reference, the sending contact and the safe-return form's
answers only: its sensitive answers only when the consent allows sharing with that kind of
body. Every print is audited. The sender records the status and a follow-up date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit import service as audit
from intake.cases import consent
from intake.cases import service as cases
from intake.cases.access import get_visible_case
from intake.cases.answers import Answer
from intake.cases.models import Case
from intake.cases.rules import NotPermitted
from intake.config import Settings
from intake.db import read_transaction, utcnow, write_transaction
from intake.forms.storage import sealed_names, unseal
from intake.i18n import SUPPORTED_LOCALES, set_locale
from intake.i18n import gettext as _
from intake.referrals.common import (
    form_of,
    insert_audited,
    refused,
    valid_id,
)
from intake.referrals.models import ExternalBody, ReturnReferral
from intake.referrals.sharing import readable_answers
from intake.security.permissions import Permission, has_permission

RETURN_FORM = "safe_return_plan"
MAX_NAME, MAX_CONTACT = 200, 2000
_COUNTRY = re.compile(r"^[A-Z]{2}$")
STATUSES = ("sent", "acknowledged", "arrived", "followed_up")

_KINDS: Mapping[str, Callable[[], str]] = {
    "ngo": lambda: _("Non-governmental organisation"),
    "ministry": lambda: _("Ministry or public authority"),
    "iom": lambda: _("IOM mission"),
    "consulate": lambda: _("Embassy or consulate"),
    "other": lambda: _("Other body"),
}
KINDS = tuple(_KINDS)
# Which kind of recipient of the consent form a body is; none: sensitive answers never go.
_RECIPIENT_OF_BODY = {"ngo": "ngos", "iom": "ngos", "ministry": "social_services"}


def kind_label(kind: str) -> str:
    """A body's kind in the reader's language."""
    named = _KINDS.get(kind)
    return named() if named else kind


def status_label(status: str) -> str:
    """A safe-return referral's status in the reader's language."""
    labels = {
        "sent": _("Sent"),
        "acknowledged": _("Acknowledged"),
        "arrived": _("Person arrived"),
        "followed_up": _("Follow-up done"),
    }
    return labels.get(status, status)


class ReturnNotFound(LookupError):
    """No safe-return referral with this id that this user may see (never say which)."""


# --- external bodies (administrators) --------------------------------------------------


def bodies(*, db: Session, organisation_id: str, active_only: bool = False) -> list[ExternalBody]:
    """The external bodies an organisation registered, by name."""
    query = select(ExternalBody).where(ExternalBody.organisation_id == organisation_id)
    if active_only:
        query = query.where(ExternalBody.active.is_(True))
    return list(db.execute(query.order_by(ExternalBody.name, ExternalBody.id)).scalars())


def _languages(text: str) -> list[str] | None:
    codes = [c.strip().lower() for c in re.split(r"[\s,;]+", text) if c.strip()]
    if not codes or len(codes) > 10 or any(c not in SUPPORTED_LOCALES for c in codes):
        return None
    return list(dict.fromkeys(codes))


def _printable(text: str) -> bool:
    """No control character but line breaks and tabs (a NUL cannot even be stored)."""
    return all(c.isprintable() or c in "\n\r\t" for c in text)


def _body_problem(name: str, kind: str, country: str, languages: list[str] | None) -> str:
    if not name or len(name) > MAX_NAME or not _printable(name):
        return _("Give the body's name (at most 200 characters).")
    if kind not in _KINDS:
        return _("Choose the kind of body.")
    if not _COUNTRY.match(country):
        return _("Give the country as two letters (ISO 3166), for example UA.")
    if languages is None:
        return _("Give the body's languages as codes this installation speaks, for example ru, uk.")
    return ""


def register_body(
    *, db: Session, actor: User, name: str, kind: str, country: str, languages: str, contact: str
) -> ExternalBody:
    """Register an external body for the administrator's organisation."""
    action = "external_body.registered"
    if not has_permission(actor, Permission.EXTERNAL_BODIES_MANAGE):
        raise NotPermitted
    name, country, contact = name.strip(), country.strip().upper(), contact.strip()
    codes = _languages(languages)
    problem = _body_problem(name, kind, country, codes)
    if not problem and (len(contact) > MAX_CONTACT or not _printable(contact)):
        problem = _("The contact may have at most 2,000 characters and no control characters.")
    if problem or codes is None:
        raise refused(
            db,
            actor=actor,
            object_type="external_body",
            object_id="",
            action=action,
            code="invalid",
            message=problem,
        )
    body = ExternalBody(
        organisation_id=actor.organisation_id,
        name=name,
        kind=kind,
        country=country,
        languages=codes,
        contact=contact,
        active=True,
        created_at=utcnow(),
    )
    with write_transaction(db):
        db.add(body)
        db.flush()
        audit.record(
            db=db, action=action, actor_id=actor.id, object_type="external_body", object_id=body.id
        )
    return body


def set_body_active(*, db: Session, actor: User, body_id: str, active: bool) -> ExternalBody:
    """Take a body out of use (or back): its past referrals keep it."""
    if not has_permission(actor, Permission.EXTERNAL_BODIES_MANAGE):
        raise NotPermitted
    with read_transaction(db):
        body = db.get(ExternalBody, body_id) if valid_id(body_id) else None
    if body is None or body.organisation_id != actor.organisation_id:
        raise ReturnNotFound
    with write_transaction(db):
        db.execute(update(ExternalBody).where(ExternalBody.id == body.id).values(active=active))
        audit.record(
            db=db,
            action="external_body.activated" if active else "external_body.deactivated",
            actor_id=actor.id,
            object_type="external_body",
            object_id=body.id,
        )
    db.refresh(body)
    return body


# --- safe-return referrals ------------------------------------------------------------------


def make_return(
    *, db: Session, actor: User, case_id: str, body_id: str, sending_contact: str
) -> ReturnReferral:
    """Refer the case's person for a safe return to an external body of the organisation."""
    action = "return_referral.sent"
    if not has_permission(actor, Permission.REFERRALS_MAKE):
        raise NotPermitted
    sending_contact = sending_contact.strip()
    with read_transaction(db):
        case = get_visible_case(db=db, user=actor, case_id=case_id)
        body = db.get(ExternalBody, body_id) if valid_id(body_id) else None
        problem = ""
        if case.closed_at is not None:
            problem = _("This case is closed: it cannot be referred.")
        elif body is None or body.organisation_id != case.organisation_id or not body.active:
            problem = _("Choose the body the person returns to.")
        elif (
            not sending_contact
            or len(sending_contact) > MAX_CONTACT
            or not _printable(sending_contact)
        ):
            problem = _("Give the contact of the person who sends the referral.")
        else:
            decision = consent.may_share(db=db, case=case, purpose=consent.Purpose.RETURN)
            problem = "" if decision else decision.reason
    if problem or body is None:
        raise refused(
            db,
            actor=actor,
            object_type="case",
            object_id=case_id,
            action=action,
            code="refused",
            message=problem,
        )
    now = utcnow()
    referral = ReturnReferral(
        case_id=case.id,
        external_body_id=body.id,
        organisation_id=case.organisation_id,
        language=(body.languages or ["en"])[0],
        status="sent",
        sending_contact=sending_contact,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    insert_audited(
        db,
        row=referral,
        actor=actor,
        action=action,
        case_id=case.id,
        detail=lambda: f"return_referral={referral.id} body={body.id}",
    )
    return referral


def get_visible_return(
    *, db: Session, user: User, return_id: str
) -> tuple[ReturnReferral, Case, ExternalBody]:
    """The referral, its case and body, for those who may see the case; else ReturnNotFound."""
    referral = db.get(ReturnReferral, return_id) if valid_id(return_id) else None
    if referral is None or not has_permission(user, Permission.REFERRALS_MAKE):
        raise ReturnNotFound
    try:
        case = get_visible_case(db=db, user=user, case_id=referral.case_id)
    except LookupError:
        raise ReturnNotFound from None
    body = db.get(ExternalBody, referral.external_body_id)
    if body is None or case.organisation_id != referral.organisation_id:
        raise ReturnNotFound
    return referral, case, body


def record_status(
    *, db: Session, actor: User, return_id: str, status: str, follow_up_on: str
) -> ReturnReferral:
    """Record where the return stands (sent, acknowledged, arrived, follow-up done)."""
    action = "return_referral.status"
    with read_transaction(db):
        referral, _case, _body = get_visible_return(db=db, user=actor, return_id=return_id)
    follow_up: dt.date | None = None
    problem = "" if status in STATUSES else _("Choose the status of the return.")
    if not problem and follow_up_on.strip():
        try:
            follow_up = dt.date.fromisoformat(follow_up_on.strip())
        except ValueError:
            problem = _("Give the follow-up date as a date, for example 2026-12-31.")
        if follow_up is not None and not dt.date(2000, 1, 1) <= follow_up <= dt.date(2100, 1, 1):
            problem = _("Give the follow-up date as a date, for example 2026-12-31.")
    if problem:
        raise refused(
            db,
            actor=actor,
            object_type="return_referral",
            object_id=return_id,
            action=action,
            code="invalid",
            message=problem,
        )
    with write_transaction(db):
        db.execute(
            update(ReturnReferral)
            .where(ReturnReferral.id == referral.id)
            .values(status=status, follow_up_on=follow_up, updated_at=utcnow())
        )
        audit.record(
            db=db,
            action=action,
            actor_id=actor.id,
            object_type="return_referral",
            object_id=referral.id,
            detail=f"status={status}",
        )
    db.refresh(referral)
    return referral


def returns_of_case(*, db: Session, case: Case) -> list[tuple[ReturnReferral, str]]:
    """The case's safe-return referrals (newest first) with the body's name."""
    rows = db.execute(
        select(ReturnReferral, ExternalBody.name)
        .join(ExternalBody, ExternalBody.id == ReturnReferral.external_body_id)
        .where(ReturnReferral.case_id == case.id)
        .order_by(ReturnReferral.created_at.desc(), ReturnReferral.id)
    ).all()
    return [(r, name) for r, name in rows]


@dataclass(frozen=True)
class Summary:
    """What is printed for the body, in its language."""

    language: str
    reference: str
    body_name: str
    country: str
    sending_organisation: str
    sending_contact: str
    answers: Sequence[Answer]
    allowed: bool  # the return consent still holds (asked at print time)
    printed_at: dt.datetime


def summary(*, db: Session, settings: Settings, user: User, return_id: str) -> Summary:
    """The printable summary (answers of the safe-return form only, as the consent allows);
    asked of the consent at every print, and audited."""
    with read_transaction(db):
        referral, case, body = get_visible_return(db=db, user=user, return_id=return_id)
        # The rest of this request speaks the body's language: the form's labels and the page.
        set_locale(referral.language)
        allowed = bool(consent.may_share(db=db, case=case, purpose=consent.Purpose.RETURN))
        answers = _return_answers(db, settings, case, body, referral.language) if allowed else []
        organisation = db.get(Organisation, case.organisation_id)
    with write_transaction(db):
        audit.record(
            db=db,
            action="return_referral.printed" if allowed else "return_referral.print_withheld",
            actor_id=user.id,
            object_type="return_referral",
            object_id=referral.id,
            detail=f"answers={len(answers)} language={referral.language}",
        )
    return Summary(
        language=referral.language,
        reference=case.reference,
        body_name=body.name,
        country=body.country,
        sending_organisation=organisation.name if organisation else "",
        sending_contact=referral.sending_contact,
        answers=answers,
        allowed=allowed,
        printed_at=utcnow(),
    )


def _return_answers(
    db: Session, settings: Settings, case: Case, body: ExternalBody, language: str
) -> list[Answer]:
    submission = cases.latest_submissions(db=db, case=case).get(RETURN_FORM)
    form = form_of(db, submission.form_version_id) if submission else None
    if submission is None or form is None:
        return []
    stored = submission.answers if isinstance(submission.answers, dict) else {}
    kind = _RECIPIENT_OF_BODY.get(body.kind)
    sensitive = kind is not None and bool(
        consent.may_share(db=db, case=case, purpose=consent.Purpose.SHARING, recipient_kind=kind)
    )
    hidden = frozenset() if sensitive else sealed_names(form)
    if sensitive:
        stored = unseal(
            settings=settings, form=form, stored=stored, row=f"submission:{submission.id}"
        )
    shown, _withheld = readable_answers(form, stored, hidden)
    return shown
