"""A closed case with a canary in every free-text answer, note and reason."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import notes, stages
from intake.cases.models import Case
from intake.config import Settings
from intake.definitions import service as definitions
from intake.filling.models import FormDraft
from intake.forms.storage import keyring_for, seal
from intake.overlap.models import CaseFingerprint, OverlapMatch
from intake.security.field_crypto import decrypt_value, key_id_of
from tests.cases.helpers import assign, open_case, reload, submit

CANARY = "Canary-Žemaitė-7731"


def person(canary: str = CANARY) -> dict[str, Any]:
    return {
        "given_name": f"{canary} given",
        "family_name": f"{canary} family",
        "birth_date": "1994-02-03",
        "gender": "female",
        "nationality": "other",
        "nationality_other": f"{canary} nationality",
        "age_years": 30,
        "worker_notes": f"{canary} worker notes",
    }


def _sealed_submission(db: Session, settings: Settings, case: Case, by: User, answers: dict):
    version = definitions.latest(db=db, kind="form", key="first_contact")
    assert version is not None
    row = submit(db, case, "first_contact", by)
    form = definitions.compiled_form(version)
    row.answers = seal(settings=settings, form=form, answers=answers, row=f"submission:{row.id}")
    db.commit()
    return row


def closed_case_with_canaries(
    db: Session, settings: Settings, worker: User, supervisor: User, *, canary: str = CANARY
) -> Case:
    """A case opened by `worker`, noted, moved with reasons, closed with a reason."""
    case = open_case(db, worker)
    assign(db, supervisor, case, worker, "social_worker")
    _sealed_submission(db, settings, case, worker, person(canary))
    version = definitions.latest(db=db, kind="form", key="first_contact")
    assert version is not None
    draft = FormDraft(
        client_id=f"draft-{case.id}",
        form_version_id=version.id,
        form_key=version.key,
        owner_id=worker.id,
        organisation_id=worker.organisation_id,
        case_id=case.id,
        content_language="en",
        answers={"worker_notes": f"{canary} draft"},
    )
    db.add(draft)
    db.add(CaseFingerprint(case_id=case.id, value="f" * 64))
    db.commit()
    notes.add_note(db=db, settings=settings, actor=worker, case=case, text=f"{canary} note")
    case = reload(db, case)
    stages.fire_transition(
        db=db,
        settings=settings,
        case=case,
        user=supervisor,
        trigger="close",
        reason=f"{canary} close reason",
        expected_row_version=case.row_version,
    )
    return reload(db, case)


def link_overlap(db: Session, case: Case, other: Case) -> None:
    db.add(OverlapMatch(case_id=case.id, other_case_id=other.id))
    db.add(OverlapMatch(case_id=other.id, other_case_id=case.id))
    db.commit()


# Where sealed values rest, and the associated data each one is bound to.
_SEALED_ANSWERS = {
    "submissions": "submission",
    "form_drafts": "draft",
    "referral_forms": "referral_form",
}
_SEALED_TEXT = {"case_notes": "note", "case_history": "case_history"}


def _opened(settings: Settings, table: str, row: Any, column: str, value: Any) -> Any:
    """The value with every token opened that the keys open (as the server would)."""
    keyring = keyring_for(settings)
    if table in _SEALED_ANSWERS and isinstance(value, dict):
        return {
            name: (
                decrypt_value(
                    keyring=keyring,
                    token=answer,
                    context=f"{_SEALED_ANSWERS[table]}:{row.id}:{name}",
                )
                if key_id_of(answer)
                else answer
            )
            for name, answer in value.items()
        }
    if table in _SEALED_TEXT and key_id_of(value):
        return decrypt_value(
            keyring=keyring, token=value, context=f"{_SEALED_TEXT[table]}:{row.id}"
        )
    return value


def every_text(connection: Connection, settings: Settings | None = None) -> str:
    """Every value of every column of every table, as one text (JSON as stored); with
    `settings`, every sealed answer, note and reason opened with the data keys, so a
    canary is found whether it rests in the clear or sealed."""
    parts: list[str] = []
    for table in inspect(connection).get_table_names():
        for row in connection.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
            for column, value in row._mapping.items():
                if value is None:
                    continue
                if table in _SEALED_ANSWERS and column == "answers" and isinstance(value, str):
                    value = json.loads(value)  # SQLite returns JSON as text, non-ASCII escaped
                if settings is not None:
                    value = _opened(settings, table, row, column, value)
                parts.append(
                    json.dumps(value, ensure_ascii=False, default=str)
                    if isinstance(value, dict)
                    else str(value)
                )
    return "\n".join(parts)


def years_ago(years: int, days: int = 1) -> dt.datetime:
    from intake.db import utcnow

    return utcnow() - dt.timedelta(days=365 * years + 2 + days)
