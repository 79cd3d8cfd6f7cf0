"""Anonymising a case: after its organisation's retention period, or on a person's request.

`anonymise_case` is the one place that decides what an anonymised case keeps: the case row
(reference, track, stage, dates) and its history without reasons (so every figure of the
dashboard stays as it was), its team, and coarse figures of the person (year, age band,
gender and nationality as choice names). Every answer of every filling, every draft, every
note, every reason, the person's fingerprints and overlap matches are erased. The audit
trail records that it happened, and why, as codes only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, Role, User
from intake.audit import service as audit
from intake.cases.access import get_visible_case
from intake.cases.models import Case, CaseHistory, CaseNote, Intake
from intake.cases.rules import CaseError, NotPermitted, refuse
from intake.config import Settings
from intake.db import read_transaction, utcnow, write_transaction
from intake.filling import service as filling
from intake.filling.models import FormDraft, Submission
from intake.i18n import gettext as _
from intake.overlap.models import CaseFingerprint, OverlapMatch
from intake.retention.models import CaseStatistics
from intake.security.field_crypto import FieldCryptoError
from intake.security.permissions import Permission, has_permission

DEFAULT_YEARS = 5
MAX_YEARS = 50
# Why a person's data was erased before its time; codes, so the audit trail holds no story.
ERASURE_REASONS = (
    "person_request",
    "representative_request",
    "consent_withdrawn",
    "unlawful_processing",
)
AGE_BANDS = ((14, "0-13"), (18, "14-17"), (25, "18-24"), (35, "25-34"), (50, "35-49"))
# The intake form whose answers give the coarse figures.
INTAKE_FORM = "first_contact"


class RetentionError(CaseError):
    """An erasure or a retention setting that cannot be done; the message says why."""


def erasure_reason_label(code: str) -> str:
    """A reason for erasure in the reader's language."""
    return {
        "person_request": _("The person asked for their data to be erased"),
        "representative_request": _("Their guardian or legal representative asked"),
        "consent_withdrawn": _("The person withdrew their consent"),
        "unlawful_processing": _("The data should not have been recorded"),
    }.get(code, code)


@dataclass(frozen=True)
class Figures:
    year: int
    age_band: str
    gender: str
    nationality: str


def age_band(age: object) -> str:
    """The coarse band of an age in years ("" when unknown)."""
    if isinstance(age, bool) or not isinstance(age, int | float) or age < 0:
        return ""
    return next((label for limit, label in AGE_BANDS if age < limit), "50+")


def _age(answers: dict[str, Any], at: dt.date) -> object:
    for name in ("age_years", "age"):
        if isinstance(answers.get(name), int | float):
            return answers[name]
    try:
        born = dt.date.fromisoformat(str(answers.get("birth_date")))
    except ValueError:
        return None
    return at.year - born.year - ((at.month, at.day) < (born.month, born.day))


def _choice(value: object) -> str:
    # A choice name, never free text (an "other" stays "other").
    return value[:40] if isinstance(value, str) and value.isidentifier() else ""


def _figures(*, db: Session, settings: Settings, case: Case) -> Figures:
    """The coarse figures of the case's person, from its intake answers (read, no lock)."""
    with read_transaction(db):
        rows = db.execute(
            select(Submission)
            .where(Submission.case_id == case.id, Submission.form_key == INTAKE_FORM)
            .order_by(Submission.submitted_at)
        ).scalars()
        answers: dict[str, Any] = {}
        for row in rows:
            try:
                answers = filling.submission_answers(db=db, settings=settings, submission=row)
            except (FieldCryptoError, filling.FillingNotFound):
                continue
            break
    return Figures(
        year=case.created_at.year,
        age_band=age_band(_age(answers, case.created_at.date())),
        gender=_choice(answers.get("gender")),
        nationality=_choice(answers.get("nationality")),
    )


def _fillings_of(db: Session, case_id: str) -> tuple[list[str], list[str]]:
    """The submission ids and draft client ids that belong to a case (its intake's too)."""
    intakes = db.execute(
        select(
            Intake.consent_submission_id, Intake.consent_client_id, Intake.intake_client_id
        ).where(Intake.case_id == case_id)
    ).all()
    client_ids = [c for _s, *pair in intakes for c in pair]
    submission_ids = list(
        db.execute(
            select(Submission.id).where(
                or_(
                    Submission.case_id == case_id,
                    Submission.id.in_([s for s, *_rest in intakes if s]),
                    Submission.client_id.in_(client_ids),
                )
            )
        ).scalars()
    )
    return submission_ids, client_ids


def anonymise_case(
    *, db: Session, settings: Settings, case_id: str, cause: str, actor_id: str | None = None
) -> bool:
    """Erase everything about the case's person but coarse figures; False if already done."""
    with read_transaction(db):
        case = db.get(Case, case_id)
    if case is None or case.anonymised_at is not None:
        return False
    figures = _figures(db=db, settings=settings, case=case)
    with write_transaction(db):
        case = db.execute(select(Case).where(Case.id == case_id).with_for_update()).scalar_one()
        if case.anonymised_at is not None:
            return False
        submission_ids, client_ids = _fillings_of(db, case_id)
        db.execute(
            update(Submission)
            .where(Submission.id.in_(submission_ids))
            .values(answers={}, answers_digest="")
        )
        db.execute(
            delete(FormDraft).where(
                or_(FormDraft.case_id == case_id, FormDraft.client_id.in_(client_ids))
            )
        )
        db.execute(delete(CaseNote).where(CaseNote.case_id == case_id))
        db.execute(update(CaseHistory).where(CaseHistory.case_id == case_id).values(reason=""))
        db.execute(delete(CaseFingerprint).where(CaseFingerprint.case_id == case_id))
        db.execute(
            delete(OverlapMatch).where(
                or_(OverlapMatch.case_id == case_id, OverlapMatch.other_case_id == case_id)
            )
        )
        db.merge(
            CaseStatistics(
                case_id=case_id,
                year=figures.year,
                age_band=figures.age_band,
                gender=figures.gender,
                nationality=figures.nationality,
            )
        )
        case.fingerprint = None
        case.anonymised_at = utcnow()
        audit.record(
            db=db,
            action="case.anonymised",
            actor_id=actor_id,
            object_type="case",
            object_id=case_id,
            detail=cause,
        )
    return True


def _years_before(moment: dt.datetime, years: int) -> dt.datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def due_cases(*, db: Session, now: dt.datetime | None = None) -> list[str]:
    """Closed cases whose organisation's retention period has passed, oldest closing first."""
    now = now or utcnow()
    found: list[str] = []
    with read_transaction(db):
        periods = db.execute(select(Organisation.id, Organisation.retention_years)).all()
        for organisation_id, years in periods:
            cutoff = _years_before(now, years)
            found.extend(
                db.execute(
                    select(Case.id)
                    .where(
                        Case.organisation_id == organisation_id,
                        Case.closed_at.is_not(None),
                        Case.closed_at < cutoff,
                        Case.anonymised_at.is_(None),
                    )
                    .order_by(Case.closed_at, Case.id)
                ).scalars()
            )
    return found


@dataclass(frozen=True)
class RunReport:
    due: int
    anonymised: int
    dry_run: bool


def run(
    *, db: Session, settings: Settings, now: dt.datetime | None = None, dry_run: bool = False
) -> RunReport:
    """Anonymise every case past its retention period (each in its own short transaction)."""
    due = due_cases(db=db, now=now)
    if dry_run:
        return RunReport(due=len(due), anonymised=0, dry_run=True)
    done = sum(
        anonymise_case(db=db, settings=settings, case_id=case_id, cause="retention")
        for case_id in due
    )
    return RunReport(due=len(due), anonymised=done, dry_run=False)


def erase_on_request(
    *,
    db: Session,
    settings: Settings,
    actor: User,
    case_id: str,
    reason: str,
    confirmed: bool,
) -> None:
    """A person's erasure request (GDPR art. 17), confirmed by a supervisor: anonymise now."""
    actor_id = actor.id
    case = get_visible_case(db=db, user=actor, case_id=case_id)
    problem: tuple[str, CaseError] | None = None
    if not has_permission(actor, Permission.CASES_ERASE):
        problem = "role", NotPermitted()
    elif case.anonymised_at is not None:
        problem = "done", RetentionError(_("This case is anonymised already."))
    elif case.closed_at is None:
        problem = "open", RetentionError(_("Close the case first, then erase it."))
    elif reason not in ERASURE_REASONS:
        problem = "reason", RetentionError(_("Choose why the data is erased."))
    elif not confirmed:
        problem = "unconfirmed", RetentionError(_("Tick the box to confirm the erasure."))
    if problem is not None:
        code, error = problem
        refuse(db=db, actor_id=actor_id, case_id=case_id, action="case.anonymised", code=code)
        raise error
    anonymise_case(
        db=db, settings=settings, case_id=case_id, cause=f"erasure:{reason}", actor_id=actor_id
    )


def set_retention_years(*, db: Session, actor: User, years: int) -> None:
    """The organisation administrator sets how long closed cases are kept."""
    if actor.role != Role.ADMIN:
        raise NotPermitted()
    if not 1 <= years <= MAX_YEARS:
        raise RetentionError(_("Choose between 1 and 50 years."))
    with write_transaction(db):
        organisation = db.execute(
            select(Organisation).where(Organisation.id == actor.organisation_id).with_for_update()
        ).scalar_one()
        organisation.retention_years = years
        audit.record(
            db=db,
            action="organisation.retention",
            actor_id=actor.id,
            object_type="organisation",
            object_id=organisation.id,
            detail=f"years={years}",
        )
