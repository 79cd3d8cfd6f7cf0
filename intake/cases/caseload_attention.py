"""The supervisor's "attention" list: the open cases someone should act on now.

A case needs attention when it is overdue in its stage, when the person has come
of age (intake.cases.coming_of_age), or when a step forward of its stage has waited
WAITING_DAYS on a form nobody has filled yet. Incoming referrals are not cases of
this organisation yet: the list links to them (referrals/ sits above cases/ and is
not imported here).

Each condition is SQL over the scoped query, so the list pages and counts like the
others; the sentences saying why are made only for the rows shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import rules
from intake.cases.coming_of_age import cases_coming_of_age
from intake.cases.labels import workflow_of_version
from intake.cases.models import Case
from intake.cases.rules import label_in
from intake.config import Settings
from intake.definitions import service as definitions
from intake.definitions.models import DefinitionVersion
from intake.filling.models import Submission
from intake.i18n import gettext as _
from intake.workflow.compiled import Workflow

# (workflow version id, stage, the forms of each step forward from it).
Waiting = tuple[str, str, tuple[tuple[str, ...], ...]]
# A form still missing after this many days in the stage puts the case on the list.
WAITING_DAYS = 3


@dataclass(frozen=True)
class Why:
    """The reasons a shown case is on the attention list, as sentences."""

    case_id: str
    sentences: tuple[str, ...]


def forms_awaited(workflow: Workflow, state: str) -> list[tuple[str, ...]]:
    """The forms each step forward of `state` needs (not lost contact nor closing early);
    empty when a step forward needs no form, so the stage never waits on one."""
    steps = [
        transition.requires_forms
        for transition in workflow.transitions
        if state in transition.sources and not transition.requires_reason
    ]
    return [] if any(not forms for forms in steps) else steps


def _waiting(db: Session) -> list[Waiting]:
    versions = db.execute(
        select(DefinitionVersion).where(DefinitionVersion.kind == "workflow")
    ).scalars()
    found: list[Waiting] = []
    for version in versions:
        workflow = definitions.compiled_workflow(db=db, version=version)
        for name, state in workflow.states.items():
            steps = forms_awaited(workflow, name) if not state.final else []
            if steps:
                found.append((version.id, name, tuple(steps)))
    return found


def _missing(form_key: str) -> ColumnElement[bool]:
    return ~exists().where(Submission.case_id == Case.id, Submission.form_key == form_key)


def waiting_on_form_condition(*, db: Session, now: dt.datetime) -> ColumnElement[bool]:
    """Open cases in their stage for WAITING_DAYS or more where every step forward needs a
    form never filled in the case (a case just arrived is not yet waiting; a case with
    one way forward ready is not waiting either)."""
    parts = [
        and_(
            Case.workflow_version_id == version,
            Case.state == state,
            *[or_(*[_missing(key) for key in forms]) for forms in steps],
        )
        for version, state, steps in _waiting(db)
    ]
    if not parts:
        return false()
    since = now - dt.timedelta(days=WAITING_DAYS)
    return and_(Case.closed_at.is_(None), Case.state_entered_at <= since, or_(*parts))


def coming_of_age_ids(
    *, db: Session, user: User, today: dt.date, settings: Settings | None = None
) -> list[str]:
    """The ids of the cases that have come of age for this user today, found once per
    session and day: a list page asks for its count, its rows and their reasons."""
    key = ("coming_of_age_ids", user.id, today)
    if key not in db.info:
        found = cases_coming_of_age(db=db, user=user, today=today, settings=settings)
        db.info[key] = [item.case_id for item in found]
    ids: list[str] = db.info[key]
    return ids


def attention_condition(
    *,
    db: Session,
    user: User,
    now: dt.datetime,
    overdue: ColumnElement[bool],
    settings: Settings | None = None,
) -> ColumnElement[bool]:
    """Overdue, coming of age, or waiting on a form: the attention list as one condition."""
    conditions = [overdue, waiting_on_form_condition(db=db, now=now)]
    ids = coming_of_age_ids(db=db, user=user, today=now.date(), settings=settings)
    if ids:
        conditions.append(and_(Case.closed_at.is_(None), Case.id.in_(ids)))
    return or_(*conditions)


def why(
    *,
    db: Session,
    user: User,
    cases: list[Case],
    now: dt.datetime,
    settings: Settings | None = None,
) -> dict[str, Why]:
    """For each shown case, the sentences that say why it needs attention (besides being
    overdue, which every list shows)."""
    ids = [case.id for case in cases]
    rows = db.execute(
        select(Submission.case_id, Submission.form_key).where(Submission.case_id.in_(ids))
    ).all()
    filled = {(case_id, key) for case_id, key in rows}
    of_age = set(coming_of_age_ids(db=db, user=user, today=now.date(), settings=settings))
    found: dict[str, Why] = {}
    for case in cases:
        sentences: list[str] = []
        if case.id in of_age:
            sentences.append(_("Turns 18: the case moves to the adult track"))
        workflow = workflow_of_version(db, case.workflow_version_id)
        waited = rules.days_in_stage(entered_at=case.state_entered_at, now=now)
        if workflow is not None and case.state in workflow.states and waited >= WAITING_DAYS:
            sentences += [
                _("Waiting on the %(form)s form", form=_form_title(db, key))
                for key in _nearest_missing(forms_awaited(workflow, case.state), case.id, filled)
            ]
        found[case.id] = Why(case.id, tuple(sentences))
    return found


def _nearest_missing(
    steps: list[tuple[str, ...]], case_id: str, filled: set[tuple[str | None, str]]
) -> list[str]:
    """The forms still missing for the step forward that misses the fewest (none when a
    step has all it needs)."""
    missing = [[key for key in forms if (case_id, key) not in filled] for forms in steps]
    if not missing or any(not keys for keys in missing):
        return []
    return min(missing, key=len)


def _form_title(db: Session, key: str) -> str:
    version = definitions.latest(db=db, kind="form", key=key)
    if version is None:
        return key
    form = definitions.compiled_form(version)
    return label_in(form.title, form.languages)
