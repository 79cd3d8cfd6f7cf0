"""The HTCDS v2.0 exchange file of one case, for a referral or transfer the person agreed to.

It carries personal data (names, birth date, phone), so it is made only when the case's
latest consent allows referral (intake.cases.consent.may_share), only for someone who may
see the case, and every attempt is audited. Column names and coded values are exactly
HTCDS's; the mapping from our answers is read from exports/htcds.yaml, checked by
`check_mapping` (and `intake exports check`) against the HTCDS names and the forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.audit import service as audit
from intake.cases import service as cases
from intake.cases.consent import Purpose, may_share
from intake.cases.models import Case
from intake.config import Settings
from intake.db import read_transaction, write_transaction
from intake.definitions import service as definitions
from intake.filling import service as filling
from intake.forms.definition import FormDefinition
from intake.statistics import codes, htcds_names
from intake.statistics.exports import Export, csv_stream

MAPPING_FILE = Path(__file__).resolve().parents[2] / "exports" / "htcds.yaml"
CASE_SOURCES = ("status", "consent")


class HtcdsRefused(Exception):
    """The file may not be made; the message says why (which consent is missing)."""


@dataclass(frozen=True)
class Column:
    """One HTCDS column: an answer (form, field, codes) or a fact of the case."""

    name: str
    form: str = ""
    field: str = ""
    codes: Mapping[str, str] | str | None = None
    case: str = ""


def load_mapping(path: Path = MAPPING_FILE) -> tuple[list[Column], list[str]]:
    """The columns of a mapping file, and the problems that make it unusable."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        return [], [f"{path.name}: {type(exc).__name__}"]
    columns = data.get("columns") if isinstance(data, dict) else None
    if not isinstance(columns, dict) or not columns:
        return [], [f"{path.name}: no columns"]
    found, problems = [], []
    for name, spec in columns.items():
        if not isinstance(spec, dict):
            problems.append(f"{path.name}: {name}: expected a mapping")
            continue
        found.append(
            Column(
                name=str(name),
                form=str(spec.get("form", "")),
                field=str(spec.get("field", "")),
                codes=spec.get("codes"),
                case=str(spec.get("case", "")),
            )
        )
    return found, problems


def check_mapping(columns: list[Column], forms: Mapping[str, FormDefinition]) -> list[str]:
    """Problems: a column HTCDS does not name, a code it does not list, a form or field or
    choice that does not exist."""
    problems = []
    for column in columns:
        where = f"htcds.yaml: {column.name}"
        if column.name not in htcds_names.COLUMNS:
            problems.append(f"{where}: not an HTCDS v2.0 column")
        if column.case:
            if column.case not in CASE_SOURCES:
                problems.append(f"{where}: case: expected one of {', '.join(CASE_SOURCES)}")
            continue
        form = forms.get(column.form)
        field = (
            next((f for f in form.top_level_fields() if f.name == column.field), None)
            if form
            else None
        )
        if field is None:
            problems.append(f"{where}: no field {column.form}.{column.field}")
            continue
        if isinstance(column.codes, dict):
            allowed = htcds_names.CODES.get(column.name)
            for ours, theirs in column.codes.items():
                if field.choice(str(ours)) is None:
                    problems.append(f"{where}: {ours} is no choice of {column.field}")
                if allowed is not None and theirs not in allowed:
                    problems.append(f"{where}: {theirs} is not an HTCDS code of this column")
        elif column.codes not in (None, "iso3166"):
            problems.append(f"{where}: codes: a mapping, or iso3166")
    return problems


def check_command(path: str | None = None) -> int:
    """`intake exports check [PATH]`: the mapping file against HTCDS and the form files;
    prints each problem, exits 1 if any."""
    from intake.forms import cli as forms_cli
    from intake.forms.loader import load_form
    from intake.yaml_source import DefinitionProblems

    forms: dict[str, FormDefinition] = {}
    for form_path in forms_cli.default_form_paths():
        try:
            form = load_form(Path(form_path).read_text(encoding="utf-8"), file=form_path)
        except DefinitionProblems:
            continue  # `intake forms check` reports it; its fields are unknown here
        forms[form.id] = form
    columns, problems = load_mapping(Path(path) if path else MAPPING_FILE)
    problems += check_mapping(columns, forms)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{len(columns)} HTCDS column(s) mapped, no problems")
    return 1 if problems else 0


def shipped_forms(*, db: Session) -> dict[str, FormDefinition]:
    """The newest published version of every form, compiled."""
    return {
        version.key: definitions.compiled_form(version)
        for version in definitions.latest_of_kind(db=db, kind="form")
    }


def _value(column: Column, answer: Any) -> str:
    values = answer if isinstance(answer, list) else [answer]
    out = []
    for value in values:
        if value is None or value == "":
            continue
        if column.codes == "iso3166":
            out.append(codes.iso_country(str(value)))
        elif isinstance(column.codes, dict):
            out.append(str(column.codes.get(str(value), "")))
        else:
            out.append(str(value))
    return ";".join(dict.fromkeys(v for v in out if v))


def _answers(*, db: Session, settings: Settings, case: Case) -> dict[str, dict[str, Any]]:
    latest = cases.latest_submissions(db=db, case=case)
    return {
        key: filling.submission_answers(db=db, settings=settings, submission=submission)
        for key, submission in latest.items()
    }


def exchange_file(*, db: Session, settings: Settings, user: User, case: Case) -> Export:
    """The case's HTCDS file (CSV: HTCDS's column names, one row), if its consent allows."""
    columns, problems = load_mapping()
    with read_transaction(db):
        decision = may_share(db=db, case=case, purpose=Purpose.REFERRAL)
        if decision and not problems:
            answers = _answers(db=db, settings=settings, case=case)
    with write_transaction(db):
        audit.record(
            db=db,
            action="case.htcds_exported",
            actor_id=user.id,
            object_type="case",
            object_id=case.id,
            outcome="ok" if decision and not problems else "refused",
            detail=f"columns={len(columns)}",
        )
    if not decision:
        raise HtcdsRefused(decision.reason)
    if problems:
        raise HtcdsRefused(problems[0])
    row = []
    for column in columns:
        if column.case == "status":
            row.append("Closed" if case.closed_at else "Active")
        elif column.case == "consent":
            row.append("TRUE")
        else:
            row.append(_value(column, answers.get(column.form, {}).get(column.field)))
    return Export(
        f"htcds-{case.id}.csv",
        "text/csv; charset=utf-8",
        # Machine-read: a phone number's "+" is kept as it is (no spreadsheet guard).
        csv_stream([c.name for c in columns], [row], guard=False),
        1,
    )
