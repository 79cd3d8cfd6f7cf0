"""Coming of age: a track that declares `on_age` hands a case over when the person
reaches that age (the girls' track moves her to the standard track at 18).

The day comes from the first-contact form: the recorded birth date (sealed: read
only where the settings' keys are at hand), else the age given at intake plus
the time since, counted from the intake day as if she had just turned that age
(so the estimate never moves a child early). The case page counts down from
NOTICE_DAYS before; on the day, the case is on the supervisor's attention list,
and one action moves her along the declared mapping, as any track change does.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import stages
from intake.cases.access import get_visible_case, visible_cases
from intake.cases.labels import workflow_of_version
from intake.cases.models import Case
from intake.cases.rules import CaseError, refuse
from intake.config import Settings
from intake.definitions import service as definitions
from intake.filling import service as fillings
from intake.filling.models import Submission
from intake.i18n import gettext as _
from intake.security.field_crypto import FieldCryptoError
from intake.security.permissions import Permission, has_permission
from intake.workflow.schema import AgeRule

NOTICE_DAYS = 30
ACTION = "case.came_of_age"
BIRTH_FORM = "first_contact"


@dataclass(frozen=True)
class ComingOfAge:
    """When a case's person reaches the age of its track's rule, and where she moves then."""

    case_id: str
    due_on: dt.date
    days_left: int  # 0 on the day, negative after it
    estimated: bool  # from the age at intake, not a recorded birth date
    years: int
    track: str
    state: str


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day `years` later (a 29 February becomes the 1 March)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one: the first of March
        return dt.date(day.year + years, 3, 1)


def _birth_date(
    *, db: Session, settings: Settings | None, submission: Submission
) -> dt.date | None:
    stored = submission.answers if isinstance(submission.answers, dict) else {}
    value = stored.get("birth_date")
    if value is None:
        return None
    try:
        if settings is not None and not _is_iso_date(value):
            value = fillings.submission_answers(
                db=db, settings=settings, submission=submission
            ).get("birth_date")
        return dt.date.fromisoformat(str(value)) if _is_iso_date(value) else None
    except (FieldCryptoError, ValueError, json.JSONDecodeError):
        return None


def _is_iso_date(value: object) -> bool:
    return isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-"


def _first_contacts(db: Session, case_ids: list[str]) -> dict[str, Submission]:
    """The newest first-contact submission of each case, in one query."""
    rows = db.execute(
        select(Submission)
        .where(Submission.case_id.in_(case_ids), Submission.form_key == BIRTH_FORM)
        .order_by(Submission.submitted_at, Submission.id)
    ).scalars()
    return {row.case_id: row for row in rows if row.case_id is not None}


def due_date(
    *,
    db: Session,
    settings: Settings | None,
    case: Case,
    years: int,
    submission: Submission | None = None,
) -> tuple[dt.date, bool] | None:
    """The day the person reaches `years`, and whether it is an estimate (None if unknown);
    `submission` is the case's newest first contact when the caller has read it already."""
    submission = submission or _first_contacts(db, [case.id]).get(case.id)
    if submission is None:
        return None
    born = _birth_date(db=db, settings=settings, submission=submission)
    if born is not None:
        return add_years(born, years), False
    stored = submission.answers if isinstance(submission.answers, dict) else {}
    age = stored.get("age")
    if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 120:
        return None
    return estimated_due(intake_day=submission.submitted_at.date(), age=age, years=years), True


def estimated_due(*, intake_day: dt.date, age: int, years: int) -> dt.date:
    """The day she surely reaches `years`, from her age in whole years on the intake day:
    as if she had turned that age that very day (never before the true day)."""
    return add_years(intake_day, max(years - age, 0))


def rule_of(*, db: Session, case: Case) -> AgeRule | None:
    """The coming-of-age rule of the track the case runs on, if it has one."""
    workflow = workflow_of_version(db, case.workflow_version_id)
    return workflow.definition.on_age if workflow is not None else None


def coming_of_age(
    *,
    db: Session,
    settings: Settings | None,
    case: Case,
    today: dt.date,
    submission: Submission | None = None,
) -> ComingOfAge | None:
    """When the open case's person comes of age and where she moves, if her track says so."""
    rule = rule_of(db=db, case=case)
    if rule is None or case.closed_at is not None:
        return None
    state = rule.go_to.state_map.get(case.state)
    due = due_date(db=db, settings=settings, case=case, years=rule.years, submission=submission)
    if due is None or state is None:
        return None
    return ComingOfAge(
        case_id=case.id,
        due_on=due[0],
        days_left=(due[0] - today).days,
        estimated=due[1],
        years=rule.years,
        track=rule.go_to.track,
        state=state,
    )


def notice(
    *, db: Session, settings: Settings | None, case: Case, today: dt.date
) -> ComingOfAge | None:
    """What the case page says: from NOTICE_DAYS before the day (and after it, until moved)."""
    found = coming_of_age(db=db, settings=settings, case=case, today=today)
    return found if found is not None and found.days_left <= NOTICE_DAYS else None


def cases_coming_of_age(
    *, db: Session, user: User, today: dt.date, settings: Settings | None = None
) -> list[ComingOfAge]:
    """The open cases the user may move whose person has come of age by `today`.

    Without `settings` a sealed birth date cannot be read: only cases whose age was
    given at intake (or whose birth date is not sealed) are found."""
    if not has_permission(user, Permission.CASES_ADVANCE):
        return []
    tracks = {
        wf.id
        for _version, wf in definitions.current_workflows(db=db)
        if wf.definition.on_age is not None
    }
    if not tracks:
        return []
    open_cases = list(
        db.execute(
            visible_cases(user=user).where(Case.closed_at.is_(None), Case.track.in_(sorted(tracks)))
        ).scalars()
    )
    contacts = _first_contacts(db, [case.id for case in open_cases])
    found = [
        coming_of_age(
            db=db, settings=settings, case=case, today=today, submission=contacts[case.id]
        )
        for case in open_cases
        if case.id in contacts
    ]
    return sorted((f for f in found if f and f.days_left <= 0), key=lambda f: f.due_on)


def move_of_age(
    *,
    db: Session,
    settings: Settings,
    user: User,
    case: Case,
    expected_row_version: int,
    today: dt.date,
) -> Case:
    """Move the case along its track's coming-of-age mapping (supervisors, on or after the
    day), as a track change with its history and audit rows, and commit."""
    user_id, case_id = user.id, case.id
    case = get_visible_case(db=db, user=user, case_id=case_id)
    found = coming_of_age(db=db, settings=settings, case=case, today=today)
    if found is None or found.days_left > 0:
        refuse(db=db, actor_id=user_id, case_id=case_id, action=ACTION, code="not_due")
        raise CaseError(_("She has not come of age yet: nothing was changed."))
    # The day is left out: with the age it would give the birth date away.
    reason = _("Came of age (%(years)s years)", years=found.years)
    return stages.change_track(
        db=db,
        settings=settings,
        case=case,
        user=user,
        workflow_key=found.track,
        state=found.state,
        reason=reason,
        expected_row_version=expected_row_version,
    )
