"""Referrals: refer a person from a case to another organisation's service, answer, close.

Every read of a case goes through intake.cases.access; a referral is visible to the
sending side (those who may see its case) and to the receiving organisation (its
supervisors, and whoever may see the linked case made on accept). Anything else is
ReferralNotFound, a 404 that confirms nothing, audited.

What leaves the case is decided by intake.cases.consent.may_share only: referral for the
receiving organisation's kind to send and, at every read, to show the shared forms; sharing
for that kind to include the sensitive answers. The shared forms are copies whose sealed
answers are opened with the sender's binding and sealed again for the copy's row.

Each action reads and checks first (no write lock), then writes in one short transaction;
answering is a conditional UPDATE (`WHERE status = 'sent'`), so of two supervisors
answering at once exactly one wins.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit import service as audit
from intake.cases import consent
from intake.cases import service as cases
from intake.cases.access import CaseNotFound, get_visible_case
from intake.cases.answers import Answer
from intake.cases.models import Case
from intake.cases.rules import CaseError, NotPermitted, reader_language
from intake.config import Settings
from intake.db import new_id, read_transaction, utcnow, write_transaction
from intake.definitions import service as definitions
from intake.filling.models import Submission
from intake.forms.definition import FormDefinition
from intake.forms.rendering import display
from intake.forms.schema import FieldType
from intake.forms.storage import keyring_for, seal, sealed_names, unseal
from intake.i18n import gettext as _
from intake.referrals.models import Referral, ReferralEvent, ReferralForm
from intake.security.field_crypto import FieldCryptoError, decrypt_value, encrypt_value
from intake.security.permissions import Permission, has_permission, roles_with

SENT, ACCEPTED, DECLINED, CLOSED = "sent", "accepted", "declined", "closed"
OPEN = (SENT, ACCEPTED)
DELIVERED, NOT_DELIVERED = "delivered", "not_delivered"
MAX_ID_LENGTH = 32
MAX_REASON = 2000

_SERVICES: Mapping[str, Callable[[], str]] = {
    "housing": lambda: _("Housing"),
    "psychological_support": lambda: _("Psychological support"),
    "medical_care": lambda: _("Medical care"),
    "legal_aid": lambda: _("Legal aid"),
    "education": lambda: _("Education"),
    "employment": lambda: _("Employment"),
    "interpretation": lambda: _("Interpretation"),
    "other": lambda: _("Other"),
}
SERVICES = tuple(_SERVICES)


def service_label(service: str) -> str:
    """A service's name in the reader's language."""
    named = _SERVICES.get(service)
    return named() if named else service


def status_label(status: str) -> str:
    """A referral's status in the reader's language."""
    labels = {
        SENT: _("Waiting for an answer"),
        ACCEPTED: _("Accepted"),
        DECLINED: _("Declined"),
        CLOSED: _("Closed"),
    }
    return labels.get(status, status)


def outcome_label(outcome: str) -> str:
    """A closed referral's outcome in the reader's language."""
    labels = {DELIVERED: _("Service delivered"), NOT_DELIVERED: _("Service not delivered")}
    return labels.get(outcome, outcome)


class ReferralError(CaseError):
    """A refused referral action; str(error) is a translated message. Nothing was stored."""


class AlreadyAnswered(ReferralError):
    """Someone else answered (or closed) the referral first."""

    def __init__(self) -> None:
        super().__init__(_("This referral was already answered. Reload to see the answer."))


class ReferralNotFound(LookupError):
    """No referral with this id that this user may see (it may exist: never say)."""


# --- seeing ---------------------------------------------------------------------------


def _sees_case(db: Session, user: User, case_id: str | None) -> bool:
    if not case_id:
        return False
    try:
        get_visible_case(db=db, user=user, case_id=case_id)
    except CaseNotFound:
        return False
    return True


def side_of(*, db: Session, user: User, referral: Referral) -> str | None:
    """ "sender", "receiver" or None: which side of the referral `user` stands on."""
    if not user.active or not has_permission(user, Permission.REFERRALS_MAKE):
        return None
    if user.organisation_id == referral.from_organisation_id and _sees_case(
        db, user, referral.case_id
    ):
        return "sender"
    if user.organisation_id == referral.to_organisation_id and (
        has_permission(user, Permission.REFERRALS_ANSWER)
        or _sees_case(db, user, referral.linked_case_id)
    ):
        return "receiver"
    return None


def get_visible_referral(*, db: Session, user: User, referral_id: str) -> tuple[Referral, str]:
    """The referral and the user's side, else ReferralNotFound."""
    if not referral_id or len(referral_id) > MAX_ID_LENGTH or "\x00" in referral_id:
        raise ReferralNotFound
    referral = db.get(Referral, referral_id)
    if referral is None:
        raise ReferralNotFound
    side = side_of(db=db, user=user, referral=referral)
    if side is None:
        raise ReferralNotFound
    return referral, side


def record_unseen(*, db: Session, user: User, referral_id: str, action: str) -> None:
    """Audit a request for a referral `user` may not see (or that does not exist), and commit."""
    with write_transaction(db):
        audit.record(
            db=db,
            action=action,
            actor_id=user.id,
            object_type="referral",
            object_id=referral_id,
            outcome="refused",
            detail="not_found",
        )


def is_overdue(*, referral: Referral, answer_days: int, now: dt.datetime) -> bool:
    """A referral still unanswered after `answer_days` whole days."""
    return referral.status == SENT and (now - referral.created_at).days > answer_days


# --- making one -----------------------------------------------------------------------


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


def _form_of(db: Session, version_id: str) -> FormDefinition | None:
    version = definitions.get_version(db=db, version_id=version_id)
    return definitions.compiled_form(version) if version else None


def shareable_forms(*, db: Session, case: Case) -> list[ShareableForm]:
    """The case's recorded forms (newest filling of each) that a referral may carry."""
    found = []
    for key, submission in cases.latest_submissions(db=db, case=case).items():
        form = _form_of(db, submission.form_version_id)
        title = form.text(form.title, reader_language(form.languages)) if form else key
        found.append(ShareableForm(key, title, submission.submitted_at))
    return sorted(found, key=lambda f: f.title)


def _refuse(db: Session, actor: User, case_id: str, action: str, code: str, message: str) -> None:
    with write_transaction(db):
        audit.record(
            db=db,
            action=action,
            actor_id=actor.id,
            object_type="case",
            object_id=case_id,
            outcome="refused",
            detail=code,
        )
    raise ReferralError(message)


def _copy(
    *,
    settings: Settings,
    form: FormDefinition,
    submission: Submission,
    copy_id: str,
    sensitive: bool,
) -> dict[str, Any]:
    stored = submission.answers if isinstance(submission.answers, dict) else {}
    sealed = sealed_names(form)
    if not sensitive:
        # Never opened: the sensitive answers stay with the sender.
        return {k: v for k, v in stored.items() if k not in sealed}
    plain = unseal(settings=settings, form=form, stored=stored, row=f"submission:{submission.id}")
    return seal(settings=settings, form=form, answers=plain, row=f"referral_form:{copy_id}")


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
        target = db.get(Organisation, to_organisation_id) if to_organisation_id else None
        problem: tuple[str, str] | None = None
        if case.closed_at is not None:
            problem = ("closed", _("This case is closed: it cannot be referred."))
        elif service not in _SERVICES:
            problem = ("service", _("Choose the service the person is referred for."))
        elif target is None or len(to_organisation_id) > MAX_ID_LENGTH:
            problem = ("organisation", _("Choose the organisation the person is referred to."))
        elif target.id == actor.organisation_id or target.id == case.organisation_id:
            problem = ("own", _("A person cannot be referred to your own organisation."))
        elif not target.active:
            problem = ("inactive", _("This organisation is no longer active on the installation."))
        kind = consent.recipient_kind_of(target) if target is not None else None
        if problem is None:
            decision = consent.may_share(
                db=db, case=case, purpose=consent.Purpose.REFERRAL, recipient_kind=kind
            )
            if not decision:
                problem = ("consent", decision.reason)
        if problem is None and _open_for(db, case.id, service):
            problem = (
                "duplicate",
                _("This person already has an open referral for this service."),
            )
        latest = cases.latest_submissions(db=db, case=case)
        chosen = list(dict.fromkeys(form_keys))
        if problem is None and any(key not in latest for key in chosen):
            problem = ("forms", _("Only forms recorded in this case can be shared."))
        if problem is None:
            sensitive = bool(
                consent.may_share(
                    db=db, case=case, purpose=consent.Purpose.SHARING, recipient_kind=kind
                )
            )
            copies = []
            for key in chosen:
                submission = latest[key]
                form = _form_of(db, submission.form_version_id)
                if form is None:
                    continue
                copy_id = new_id()
                copies.append(
                    ReferralForm(
                        id=copy_id,
                        source_submission_id=submission.id,
                        form_key=key,
                        form_version_id=submission.form_version_id,
                        submitted_at=submission.submitted_at,
                        sensitive_included=sensitive,
                        answers=_copy(
                            settings=settings,
                            form=form,
                            submission=submission,
                            copy_id=copy_id,
                            sensitive=sensitive,
                        ),
                    )
                )
    if problem is not None:
        _refuse(db, actor, case_id, action, *problem)
    assert target is not None
    now = utcnow()
    referral = Referral(
        id=new_id(),
        case_id=case_id,
        from_organisation_id=case.organisation_id,
        to_organisation_id=target.id,
        service=service,
        open_service=service,
        status=SENT,
        created_by_id=actor.id,
        created_at=now,
        outcome="",
    )
    try:
        with write_transaction(db):
            db.add(referral)
            db.flush()
            for copy in copies:
                copy.referral_id = referral.id
                db.add(copy)
            _event(db, referral, actor, SENT, now)
            audit.record(
                db=db,
                action=action,
                actor_id=actor.id,
                object_type="case",
                object_id=case_id,
                detail=f"referral={referral.id} to={target.id} service={service} "
                f"forms={len(copies)} sensitive={int(sensitive)}",
            )
    except IntegrityError:
        # Another request opened a referral for this service meanwhile.
        _refuse(
            db,
            actor,
            case_id,
            action,
            "duplicate",
            _("This person already has an open referral for this service."),
        )
    return referral


def _open_for(db: Session, case_id: str, service: str) -> bool:
    found = db.execute(
        select(Referral.id).where(Referral.case_id == case_id, Referral.open_service == service)
    ).first()
    return found is not None


def _event(
    db: Session,
    referral: Referral,
    actor: User,
    kind: str,
    at: dt.datetime,
    *,
    outcome: str = "",
    sealed_reason: str = "",
) -> None:
    db.add(
        ReferralEvent(
            referral_id=referral.id,
            at=at,
            kind=kind,
            actor_id=actor.id,
            organisation_id=actor.organisation_id,
            outcome=outcome,
            sealed_reason=sealed_reason,
        )
    )


def _seal_reason(settings: Settings, referral_id: str, kind: str, reason: str) -> str:
    if not reason:
        return ""
    return encrypt_value(
        keyring=keyring_for(settings), value=reason, context=f"referral_event:{referral_id}:{kind}"
    )


def _open_reason(settings: Settings, event: ReferralEvent) -> str:
    if not event.sealed_reason:
        return ""
    try:
        return decrypt_value(
            keyring=keyring_for(settings),
            token=event.sealed_reason,
            context=f"referral_event:{event.referral_id}:{event.kind}",
        )
    except FieldCryptoError:
        return ""


# --- answering ------------------------------------------------------------------------

ASSIGNABLE_ROLES = roles_with(Permission.CASES_VIEW)


def assignees(*, db: Session, organisation_id: str) -> list[User]:
    """The active people of the receiving organisation who may be given the linked case."""
    return list(
        db.execute(
            select(User)
            .where(
                User.organisation_id == organisation_id,
                User.active.is_(True),
                User.role.in_(sorted(ASSIGNABLE_ROLES)),
            )
            .order_by(User.display_name)
        ).scalars()
    )


def _answerable(db: Session, actor: User, referral_id: str) -> Referral:
    if not has_permission(actor, Permission.REFERRALS_ANSWER):
        raise NotPermitted
    referral, side = get_visible_referral(db=db, user=actor, referral_id=referral_id)
    if side != "receiver":
        raise ReferralNotFound
    return referral


def _claim(db: Session, referral_id: str, actor: User, now: dt.datetime, **values: Any) -> None:
    """The conditional UPDATE: only a referral still waiting is answered, once."""
    result = db.execute(
        update(Referral)
        .where(Referral.id == referral_id, Referral.status == SENT)
        .values(answered_by_id=actor.id, answered_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyAnswered


def _refuse_answer(db: Session, actor: User, referral_id: str, action: str, code: str) -> None:
    with write_transaction(db):
        audit.record(
            db=db,
            action=action,
            actor_id=actor.id,
            object_type="referral",
            object_id=referral_id,
            outcome="refused",
            detail=code,
        )


def accept(*, db: Session, actor: User, referral_id: str, assignee_id: str) -> Referral:
    """Accept for the receiving organisation: a linked case of its own, owned by `assignee_id`."""
    action = "referral.accepted"
    with read_transaction(db):
        referral = _answerable(db, actor, referral_id)
        assignee = db.get(User, assignee_id) if 0 < len(assignee_id) <= MAX_ID_LENGTH else None
        valid = assignee is not None and assignee in assignees(
            db=db, organisation_id=actor.organisation_id
        )
        answers: dict[str, Any] = {}
        if valid:
            # The track is chosen from the shared forms' plain answers only.
            for copy in _copies(db, referral.id):
                form = _form_of(db, copy.form_version_id)
                if form is None or not isinstance(copy.answers, dict):
                    continue
                hidden = sealed_names(form)
                answers.update(
                    {
                        f"{copy.form_key}.{k}": v
                        for k, v in copy.answers.items()
                        if k not in hidden and v is not None
                    }
                )
    if not valid:
        _refuse_answer(db, actor, referral_id, action, "assignee")
        raise ReferralError(_("Choose a person of your organisation to work with the person."))
    assert assignee is not None
    now = utcnow()
    try:
        with write_transaction(db):
            _claim(db, referral_id, actor, now, status=ACCEPTED, assignee_id=assignee.id)
            linked = cases.create_case(
                db=db, actor=actor, intake_answers=answers, submission_ids=[], today=now.date()
            )
            linked.owner_id = assignee.id
            db.flush()
            db.execute(
                update(Referral)
                .where(Referral.id == referral_id)
                .values(linked_case_id=linked.id)
                .execution_options(synchronize_session=False)
            )
            _event(db, referral, actor, ACCEPTED, now)
            audit.record(
                db=db,
                action=action,
                actor_id=actor.id,
                object_type="referral",
                object_id=referral_id,
                detail=f"case={linked.id}",
            )
    except AlreadyAnswered:
        _refuse_answer(db, actor, referral_id, action, "already_answered")
        raise
    db.refresh(referral)
    return referral


def decline(
    *, db: Session, settings: Settings, actor: User, referral_id: str, reason: str
) -> Referral:
    """Decline for the receiving organisation, with a reason."""
    action = "referral.declined"
    reason = reason.strip()
    with read_transaction(db):
        referral = _answerable(db, actor, referral_id)
    if not reason:
        _refuse_answer(db, actor, referral_id, action, "reason")
        raise ReferralError(_("Say why the referral is declined."))
    now = utcnow()
    try:
        with write_transaction(db):
            _claim(db, referral_id, actor, now, status=DECLINED, open_service=None, closed_at=now)
            _event(
                db,
                referral,
                actor,
                DECLINED,
                now,
                sealed_reason=_seal_reason(settings, referral_id, DECLINED, reason),
            )
            audit.record(
                db=db,
                action=action,
                actor_id=actor.id,
                object_type="referral",
                object_id=referral_id,
            )
    except AlreadyAnswered:
        _refuse_answer(db, actor, referral_id, action, "already_answered")
        raise
    db.refresh(referral)
    return referral


def closable_by(side: str) -> tuple[str, ...]:
    """The statuses a side may close: the receiving side answers a waiting referral instead."""
    return (SENT, ACCEPTED) if side == "sender" else (ACCEPTED,)


def close(
    *,
    db: Session,
    settings: Settings,
    actor: User,
    referral_id: str,
    outcome: str,
    reason: str,
) -> Referral:
    """Close an open referral with its outcome, from either side."""
    action = "referral.closed"
    reason = reason.strip()
    with read_transaction(db):
        referral, side = get_visible_referral(db=db, user=actor, referral_id=referral_id)
    closable = closable_by(side)
    code, message = "", ""
    if outcome not in (DELIVERED, NOT_DELIVERED):
        code, message = "outcome", _("Choose the outcome of the referral.")
    elif outcome == NOT_DELIVERED and not reason:
        code, message = "reason", _("Say why the service was not delivered.")
    if code:
        _refuse_answer(db, actor, referral_id, action, code)
        raise ReferralError(message)
    now = utcnow()
    try:
        with write_transaction(db):
            result = db.execute(
                update(Referral)
                .where(Referral.id == referral_id, Referral.status.in_(closable))
                .values(status=CLOSED, outcome=outcome, open_service=None, closed_at=now)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise AlreadyAnswered
            _event(
                db,
                referral,
                actor,
                CLOSED,
                now,
                outcome=outcome,
                sealed_reason=_seal_reason(settings, referral_id, CLOSED, reason),
            )
            audit.record(
                db=db,
                action=action,
                actor_id=actor.id,
                object_type="referral",
                object_id=referral_id,
                detail=f"outcome={outcome} side={side}",
            )
    except AlreadyAnswered:
        _refuse_answer(db, actor, referral_id, action, "already_answered")
        raise
    db.refresh(referral)
    return referral


# --- what the pages show ----------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """One referral as a list shows it."""

    id: str
    service: str
    status: str
    outcome: str
    direction: str  # "outgoing" or "incoming"
    other_organisation: str
    created_at: dt.datetime
    overdue: bool


def _names(db: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(
        db.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all()
    )


def _summaries(
    db: Session, rows: Sequence[Referral], direction_of: Callable[[Referral], str], answer_days: int
) -> list[Summary]:
    now = utcnow()
    names = _names(
        db, {r.from_organisation_id for r in rows} | {r.to_organisation_id for r in rows}
    )
    return [
        Summary(
            id=r.id,
            service=r.service,
            status=r.status,
            outcome=r.outcome,
            direction=direction_of(r),
            other_organisation=names.get(
                r.to_organisation_id if direction_of(r) == "outgoing" else r.from_organisation_id,
                "",
            ),
            created_at=r.created_at,
            overdue=is_overdue(referral=r, answer_days=answer_days, now=now),
        )
        for r in rows
    ]


def case_referrals(*, db: Session, user: User, case: Case, answer_days: int) -> list[Summary]:
    """The referrals made from this case, and the one that made it (a linked case)."""
    if not has_permission(user, Permission.REFERRALS_MAKE):
        return []
    rows = list(
        db.execute(
            select(Referral)
            .where((Referral.case_id == case.id) | (Referral.linked_case_id == case.id))
            .order_by(Referral.created_at.desc(), Referral.id)
        ).scalars()
    )
    return _summaries(
        db, rows, lambda r: "outgoing" if r.case_id == case.id else "incoming", answer_days
    )


def incoming(*, db: Session, user: User, answer_days: int) -> list[Summary]:
    """The referrals sent to the user's organisation, waiting ones first."""
    if not has_permission(user, Permission.REFERRALS_ANSWER):
        return []
    rows = list(
        db.execute(
            select(Referral)
            .where(Referral.to_organisation_id == user.organisation_id)
            .order_by((Referral.status == SENT).desc(), Referral.created_at.desc(), Referral.id)
            .limit(500)
        ).scalars()
    )
    return _summaries(db, rows, lambda r: "incoming", answer_days)


def count_waiting(*, db: Session, user: User) -> int:
    """How many referrals wait for an answer from the user's organisation."""
    if not has_permission(user, Permission.REFERRALS_ANSWER) or not user.active:
        return 0
    return len(
        db.execute(
            select(Referral.id).where(
                Referral.to_organisation_id == user.organisation_id, Referral.status == SENT
            )
        ).all()
    )


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    kind: str
    organisation: str
    outcome: str
    reason: str


def history(*, db: Session, settings: Settings, referral: Referral) -> list[HistoryEntry]:
    """What happened to the referral, oldest first, as both sides see it."""
    events = list(
        db.execute(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.at, ReferralEvent.id)
        ).scalars()
    )
    names = _names(db, {e.organisation_id for e in events})
    return [
        HistoryEntry(
            e.at, e.kind, names.get(e.organisation_id, ""), e.outcome, _open_reason(settings, e)
        )
        for e in events
    ]


def _copies(db: Session, referral_id: str) -> list[ReferralForm]:
    return list(
        db.execute(
            select(ReferralForm)
            .where(ReferralForm.referral_id == referral_id)
            .order_by(ReferralForm.form_key)
        ).scalars()
    )


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


def _answers(
    form: FormDefinition, stored: Mapping[str, Any], hidden: frozenset[str]
) -> tuple[list[Answer], int]:
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
            text = (
                json.dumps(value, ensure_ascii=False)
                if not isinstance(value, list)
                else " | ".join(
                    "; ".join(
                        f"{form.text(m.label, language)}: {display(m, row[m.name], language)}"
                        for m in f.fields
                        if isinstance(row, dict) and row.get(m.name) is not None
                    )
                    for row in value
                )
            )
        else:
            text = display(f, value, language)
        shown.append(Answer(form.text(f.label, language), text))
    return shown, withheld


def shared_view(
    *, db: Session, settings: Settings, user: User, referral: Referral, side: str
) -> SharedView:
    """The shared forms: titles for both sides, answers for the receiving side only while
    the person's latest consent allows the referral (asked now, at every read); audited."""
    copies = _copies(db, referral.id)
    titles = []
    forms: list[SharedForm] = []
    for copy in copies:
        form = _form_of(db, copy.form_version_id)
        titles.append(
            form.text(form.title, reader_language(form.languages)) if form else copy.form_key
        )
    if side != "receiver" or referral.status == DECLINED or not copies:
        return SharedView(titles, forms, withdrawn=False)
    case = db.get(Case, referral.case_id)
    target = db.get(Organisation, referral.to_organisation_id)
    kind = consent.recipient_kind_of(target) if target else None
    allowed = case is not None and bool(
        consent.may_share(db=db, case=case, purpose=consent.Purpose.REFERRAL, recipient_kind=kind)
    )
    sensitive = (
        allowed
        and case is not None
        and bool(
            consent.may_share(
                db=db, case=case, purpose=consent.Purpose.SHARING, recipient_kind=kind
            )
        )
    )
    if allowed:
        for copy in copies:
            form = _form_of(db, copy.form_version_id)
            if form is None:
                continue
            stored = copy.answers if isinstance(copy.answers, dict) else {}
            hidden = sealed_names(form)
            if sensitive and copy.sensitive_included:
                stored = unseal(
                    settings=settings, form=form, stored=stored, row=f"referral_form:{copy.id}"
                )
                hidden = frozenset()
            shown, withheld = _answers(form, stored, hidden)
            forms.append(
                SharedForm(
                    title=form.text(form.title, reader_language(form.languages)),
                    submitted_at=copy.submitted_at,
                    answers=shown,
                    withheld=withheld,
                )
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
