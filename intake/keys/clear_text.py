"""Seal what an earlier version stored in the clear.

Free text, phone and e-mail answers became sensitive (intake.forms.schema.PERSONAL_TEXT_TYPES),
and history reasons became sealed (intake.cases.reasons), after rows were written. Migration
0016 runs this once; `intake keys rotate` runs it again before re-encrypting, so a database
restored from an older backup is sealed too. Values already sealed are left alone, so a
second run changes nothing.

Written with table expressions naming only the columns it needs (not the ORM models), so
the migration that calls it keeps working when later migrations add columns.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from intake.cases.reasons import reason_context
from intake.config import Settings
from intake.forms.definition import FormDefinition
from intake.forms.loader import load_form
from intake.forms.storage import keyring_for, seal_clear
from intake.security.field_crypto import encrypt_value, key_id_of
from intake.yaml_source import DefinitionProblems

_VERSIONS = sa.table(
    "definition_versions",
    sa.column("id", sa.String),
    sa.column("kind", sa.String),
    sa.column("key", sa.String),
    sa.column("number", sa.Integer),
    sa.column("source_text", sa.Text),
)
_HISTORY = sa.table("case_history", sa.column("id", sa.Integer), sa.column("reason", sa.Text))


def _answers_table(name: str) -> Any:
    return sa.table(
        name,
        sa.column("id", sa.String),
        sa.column("form_version_id", sa.String),
        sa.column("answers", sa.JSON),
    )


# Tables of answers, and the prefix of the associated data their sealed answers carry.
_ANSWER_TABLES = (
    (_answers_table("submissions"), "submission"),
    (_answers_table("form_drafts"), "draft"),
    (_answers_table("referral_forms"), "referral_form"),
)


def seal_clear_values(*, conn: Connection, settings: Settings) -> Counter[str]:
    """Seal every answer and reason still in the clear, in the caller's transaction;
    how many rows changed, per table."""
    changed: Counter[str] = Counter()
    forms = _forms(conn)
    for table, prefix in _ANSWER_TABLES:
        rows = conn.execute(sa.select(table.c.id, table.c.form_version_id, table.c.answers)).all()
        for row_id, version_id, answers in rows:
            form = forms.get(version_id)
            if form is None or not isinstance(answers, dict):
                continue
            sealed = seal_clear(
                settings=settings, form=form, stored=answers, row=f"{prefix}:{row_id}"
            )
            if sealed is not None:
                conn.execute(table.update().where(table.c.id == row_id).values(answers=sealed))
                changed[table.name] += 1
    keyring = keyring_for(settings)
    reasons = conn.execute(
        sa.select(_HISTORY.c.id, _HISTORY.c.reason).where(_HISTORY.c.reason != "")
    ).all()
    for history_id, reason in reasons:
        if key_id_of(reason) is None:
            token = encrypt_value(keyring=keyring, value=reason, context=reason_context(history_id))
            conn.execute(_HISTORY.update().where(_HISTORY.c.id == history_id).values(reason=token))
            changed[_HISTORY.name] += 1
    return changed


def _forms(conn: Connection) -> dict[str, FormDefinition]:
    """Every stored form version, compiled (a version that no longer loads is skipped)."""
    found: dict[str, FormDefinition] = {}
    query = sa.select(_VERSIONS).where(_VERSIONS.c.kind == "form")
    for version in conn.execute(query).all():
        try:
            found[version.id] = load_form(
                version.source_text, file=f"{version.key}.yaml@{version.number}"
            )
        except DefinitionProblems:
            continue  # a version that no longer loads has no answers this code could read
    return found
