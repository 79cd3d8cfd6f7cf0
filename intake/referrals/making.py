"""Making a referral: the checks, the forms a referral may carry, the copies sealed again.

What leaves the case is decided by intake.cases.consent.may_share only: referral for the
receiving organisation's kind to send, sharing for that kind to include the sensitive
answers. The checks read first (no write lock); the write is one short transaction, and
the unique (case, open_service) pair refuses a second open referral even when two race.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit import service as audit
from intake.cases import consent
from intake.cases import service as cases
from intake.cases.access import get_visible_case
from intake.cases.models import Case
from intake.cases.rules import NotPermitted, reader_language
from intake.config import Settings
from intake.db import new_id, read_transaction, utcnow, write_transaction
from intake.filling.models import Submission
from intake.forms.definition import FormDefinition
from intake.forms.storage import seal, sealed_names, unseal
from intake.i18n import gettext as _
from intake.referrals.common import (
    _SERVICES,
    SENT,
    add_event,
    form_of,
    refused,
    valid_id,
)
from intake.referrals.models import Referral, ReferralForm
from intake.security.permissions import Permission, has_permission

Problem = tuple[str, str]


def recipient_organisations(*, db: Session, case: Case) -> list[Organisation]:
    """The active organisations of the installation a case's person may be referred to."""
    return list(
        db.execute(
            select(Organisation)
            .where(Organisation.active.is_(True), Organisation.id != case.organisation_id)
            .order_by(Organisation.name)
        ).scalars()
    )


@dataclass(frozen=True)
class ShareableForm:
    key: str
    title: str
    submitted_at: dt.datetime


def shareable_forms(*, db: Session, case: Case) -> list[ShareableForm]:
    """The case's recorded forms (newest filling of each) that a referral may carry."""
    found = []
    for key, submission in cases.latest_submissions(db=db, case=case).items():
        form = form_of(db, submission.form_version_id)
        title = form.text(form.title, reader_language(form.languages)) if form else key
        found.append(ShareableForm(key, title, submission.submitted_at))
    return sorted(found, key=lambda f: f.title)


def copy_answers(
    *, settings: Settings, form: FormDefinition, submission: Submission, row: str, sensitive: bool
) -> dict[str, Any]:
    """A filling's stored answers for another row: sealed again for `row`, or without the
    sensitive ones (never opened) when `sensitive` is false."""
    stored = submission.answers if isinstance(submission.answers, dict) else {}
    sealed = sealed_names(form)
    if not sensitive:
        return {k: v for k, v in stored.items() if k not in sealed}
    plain = unseal(settings=settings, form=form, stored=stored, row=f"submission:{submission.id}")
    return seal(settings=settings, form=form, answers=plain, row=row)


def _target_messages(verb: str) -> dict[str, str]:
    if verb == "transfer":
        return {
            "closed": _("This case is closed: it cannot be transferred."),
            "organisation": _("Choose the organisation the case is transferred to."),
            "own": _("A case cannot be transferred to your own organisation."),
        }
    if verb == "partner":
        return {
            "closed": _("This case is closed: its team cannot change."),
            "organisation": _("Choose the person's organisation."),
            "own": _("People of your own organisation join the team in the team section."),
        }
    return {
        "closed": _("This case is closed: it cannot be referred."),
        "organisation": _("Choose the organisation the person is referred to."),
        "own": _("A person cannot be referred to your own organisation."),
    }


def target_problem(
    *, case: Case, actor: User, target: Organisation | None, target_id: str, verb: str
) -> Problem | None:
    """Why `case` cannot reach `target` (closed, no target, own, inactive), or None; `verb`
    (refer, transfer, partner) words the message."""
    messages = _target_messages(verb)
    code = ""
    if case.closed_at is not None:
        code = "closed"
    elif target is None or not valid_id(target_id):
        code = "organisation"
    elif target.id in (actor.organisation_id, case.organisation_id):
        code = "own"
    elif not target.active:
        return ("inactive", _("This organisation is no longer active on the installation."))
    return (code, messages[code]) if code else None


def consent_problem(*, db: Session, case: Case, target: Organisation) -> Problem | None:
    """The referral consent for the target's kind, asked of intake.cases.consent."""
    decision = consent.may_share(
        db=db,
        case=case,
        purpose=consent.Purpose.REFERRAL,
        recipient_kind=consent.recipient_kind_of(target),
    )
    return None if decision else ("consent", decision.reason)


def _problem(
    db: Session, case: Case, actor: User, target: Organisation | None, target_id: str, service: str
) -> Problem | None:
    found = target_problem(case=case, actor=actor, target=target, target_id=target_id, verb="refer")
    if found is None and service not in _SERVICES:
        found = ("service", _("Choose the service the person is referred for."))
    if found is None:
        assert target is not None
        found = consent_problem(db=db, case=case, target=target)
    if found is None and _open_for(db, case.id, service):
        found = ("duplicate", _("This person already has an open referral for this service."))
    return found


def _copies(
    db: Session, settings: Settings, case: Case, target: Organisation, form_keys: Sequence[str]
) -> tuple[list[ReferralForm], bool] | None:
    """The copies of the chosen forms, and whether they carry sensitive answers; None when a
    chosen form is not recorded in the case."""
    latest = cases.latest_submissions(db=db, case=case)
    chosen = list(dict.fromkeys(form_keys))
    if any(key not in latest for key in chosen):
        return None
    sensitive = bool(
        consent.may_share(
            db=db,
            case=case,
            purpose=consent.Purpose.SHARING,
            recipient_kind=consent.recipient_kind_of(target),
        )
    )
    copies = []
    for key in chosen:
        submission = latest[key]
        form = form_of(db, submission.form_version_id)
        if form is None:
            continue
        copy_id = new_id()
        answers = copy_answers(
            settings=settings,
            form=form,
            submission=submission,
            row=f"referral_form:{copy_id}",
            sensitive=sensitive,
        )
        copies.append(
            ReferralForm(
                id=copy_id,
                source_submission_id=submission.id,
                form_key=key,
                form_version_id=submission.form_version_id,
                submitted_at=submission.submitted_at,
                sensitive_included=sensitive,
                answers=answers,
            )
        )
    return copies, sensitive


def make_referral(
    *,
    db: Session,
    settings: Settings,
    actor: User,
    case_id: str,
    to_organisation_id: str,
    service: str,
    form_keys: Sequence[str],
) -> Referral:
    """Refer the case's person to another organisation for `service`, sharing `form_keys`."""
    action = "referral.sent"
    if not has_permission(actor, Permission.REFERRALS_MAKE):
        raise NotPermitted
    with read_transaction(db):
        case = get_visible_case(db=db, user=actor, case_id=case_id)
        target = db.get(Organisation, to_organisation_id) if valid_id(to_organisation_id) else None
        problem = _problem(db, case, actor, target, to_organisation_id, service)
        made = None
        if problem is None:
            assert target is not None
            made = _copies(db, settings, case, target, form_keys)
            if made is None:
                problem = ("forms", _("Only forms recorded in this case can be shared."))
    if problem is not None or made is None or target is None:
        code, message = problem or ("forms", "")
        raise refused(
            db,
            actor=actor,
            object_type="case",
            object_id=case_id,
            action=action,
            code=code,
            message=message,
        )
    copies, sensitive = made
    referral = Referral(
        id=new_id(),
        case_id=case_id,
        from_organisation_id=case.organisation_id,
        to_organisation_id=target.id,
        service=service,
        open_service=service,
        status=SENT,
        created_by_id=actor.id,
        created_at=utcnow(),
        outcome="",
    )
    detail = f"to={target.id} service={service} forms={len(copies)} sensitive={int(sensitive)}"
    _store(db, actor, referral, copies, detail)
    return referral


def _store(
    db: Session, actor: User, referral: Referral, copies: list[ReferralForm], detail: str
) -> None:
    """Write the referral, its copies, its first event and the audit row in one transaction."""
    action = "referral.sent"
    try:
        with write_transaction(db):
            db.add(referral)
            db.flush()
            for copy in copies:
                copy.referral_id = referral.id
                db.add(copy)
            add_event(db, referral, actor, SENT, referral.created_at)
            audit.record(
                db=db,
                action=action,
                actor_id=actor.id,
                object_type="case",
                object_id=referral.case_id,
                detail=f"referral={referral.id} {detail}",
            )
    except IntegrityError:
        # Another request opened a referral for this service meanwhile.
        raise refused(
            db,
            actor=actor,
            object_type="case",
            object_id=referral.case_id,
            action=action,
            code="duplicate",
            message=_("This person already has an open referral for this service."),
        ) from None


def _open_for(db: Session, case_id: str, service: str) -> bool:
    found = db.execute(
        select(Referral.id).where(Referral.case_id == case_id, Referral.open_service == service)
    ).first()
    return found is not None
