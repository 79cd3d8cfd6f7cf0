"""A case's filled forms as its page shows them, sensitive answers only to those with need to know.

Sensitive answers are decrypted only for the case's team and its organisation's
supervisors; for anyone else they are left sealed and not shown at all, and the
page says how many were withheld.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import labels
from intake.cases import service as cases
from intake.cases.models import Case
from intake.cases.rules import reader_language
from intake.config import Settings
from intake.definitions import service as definitions
from intake.filling import service as forms
from intake.filling.models import Submission
from intake.forms.definition import FieldDef, FormDefinition
from intake.forms.rendering import display
from intake.forms.schema import FieldType
from intake.forms.storage import sealed_names


@dataclass(frozen=True)
class Answer:
    """One question and its answer, in the reader's language where the form has it."""

    label: str
    value: str


@dataclass(frozen=True)
class FilledForm:
    """The newest submission of one form in a case, as the reader may see it."""

    key: str
    title: str
    submitted_at: dt.datetime
    submitted_by: str
    answers: list[Answer]
    withheld: int  # sensitive answers this reader may not see
    earlier: int  # earlier submissions of the same form, kept in the history
    # Filled offline while the case was at another stage than when it arrived (its name).
    filled_at_stage: str = ""


def _stage_name(db: Session, case: Case, stage: str | None) -> str:
    if not stage:
        return ""
    return labels.state_label(labels.workflow_of_version(db, case.workflow_version_id), stage)


def _value(f: FieldDef, value: Any, language: str, form: FormDefinition) -> str:
    if f.type == FieldType.REPEAT and isinstance(value, list):
        rows = [
            "; ".join(
                f"{form.text(m.label, language)}: {display(m, row[m.name], language)}"
                for m in f.fields
                if m.is_answered_by_person and isinstance(row, dict) and row.get(m.name) is not None
            )
            for row in value
        ]
        return " | ".join(rows)
    return display(f, value, language)


def _answers(
    form: FormDefinition, stored: dict[str, Any], hidden: frozenset[str]
) -> tuple[list[Answer], int]:
    language = reader_language(form.languages)
    shown, withheld = [], 0
    for f in form.top_level_fields():
        if not f.is_answered_by_person or stored.get(f.name) in (None, "", []):
            continue
        if f.name in hidden:
            withheld += 1
            continue
        label = form.text(f.label, language)
        shown.append(Answer(label, _value(f, stored[f.name], language, form)))
    return shown, withheld


def filled_forms(
    *, db: Session, settings: Settings, case: Case, sensitive: bool
) -> list[FilledForm]:
    """The newest submission of each form, newest first; `sensitive` only for need to know."""
    latest = cases.latest_submissions(db=db, case=case)
    counts = Counter(
        db.execute(select(Submission.form_key).where(Submission.case_id == case.id)).scalars()
    )
    people = dict(
        db.execute(
            select(User.id, User.display_name).where(
                User.id.in_({s.submitted_by_id for s in latest.values()})
            )
        ).all()
    )
    result = []
    for key, submission in latest.items():
        version = definitions.get_version(db=db, version_id=submission.form_version_id)
        if version is None:
            continue
        form = definitions.compiled_form(version)
        if sensitive:
            stored = forms.submission_answers(db=db, settings=settings, submission=submission)
            hidden: frozenset[str] = frozenset()
        else:
            # Never decrypted for this reader: the sealed values are only counted.
            stored = submission.answers if isinstance(submission.answers, dict) else {}
            hidden = sealed_names(form)
        shown, withheld = _answers(form, stored, hidden)
        language = reader_language(form.languages)
        result.append(
            FilledForm(
                key=key,
                title=form.text(form.title, language),
                submitted_at=submission.submitted_at,
                submitted_by=people.get(submission.submitted_by_id, ""),
                answers=shown,
                withheld=withheld,
                earlier=counts[key] - 1,
                filled_at_stage=_stage_name(db, case, submission.filled_at_stage),
            )
        )
    return sorted(result, key=lambda filled: filled.submitted_at, reverse=True)
