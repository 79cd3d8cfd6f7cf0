"""Exports of the figures and of the anonymised records: CSV or XLSX, streamed, with a data
dictionary, each one recorded in the audit trail (who, what, how many rows).

Nothing here builds a whole file in memory: CSV is written a batch of rows at a time;
XLSX through openpyxl's write-only mode (rows go to a temporary file as they come), then
sent in chunks. A record export reads its rows in a session of its own, in one snapshot,
after the request's session is closed (intake.db.get_db closes it when the route returns).
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from intake.accounts.models import User
from intake.audit import service as audit
from intake.config import Settings
from intake.db import read_transaction, write_transaction
from intake.i18n import gettext as _
from intake.statistics import exports_ctdc as ctdc
from intake.statistics.agreements import reporting_organisation_ids
from intake.statistics.figures import Figures, Filters, coordinator_figures

FORMATS = ("csv", "xlsx")
CSV_BATCH = 500
CHUNK = 64 * 1024
Row = Sequence[str | int | float]


class ExportError(ValueError):
    """An export that is not offered; the message says so."""


@dataclass(frozen=True)
class Export:
    """A file to send: its name, media type and body (an iterator of bytes)."""

    filename: str
    media_type: str
    body: Iterator[bytes]
    rows: int


def parse_format(value: str) -> str:
    """csv or xlsx; anything else is refused with a message."""
    if value not in FORMATS:
        raise ExportError(_("Choose CSV or XLSX."))
    return value


def _safe(value: str | int | float) -> str | int | float:
    # A spreadsheet runs a cell that starts like a formula: such text is kept as text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_stream(header: Row, rows: Iterable[Row], *, guard: bool = True) -> Iterator[bytes]:
    """CSV (UTF-8 with a byte order mark, so spreadsheets read it right), a batch at a time;
    `guard`: text that a spreadsheet would run as a formula is kept as text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for n, row in enumerate(rows, start=1):
        writer.writerow([_safe(v) for v in row] if guard else list(row))
        if n % CSV_BATCH == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_stream(sheets: Sequence[tuple[str, Row, Callable[[], Iterable[Row]]]]) -> Iterator[bytes]:
    """An XLSX workbook, one sheet per (title, header, rows), written in write-only mode."""
    book = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title=title[:31])
        sheet.append(list(header))
        for row in rows():
            sheet.append([_safe(v) for v in row])
    with tempfile.TemporaryFile() as spool:
        book.save(spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            yield chunk


def _record(db: Session, user: User, what: str, rows: int, extra: str = "") -> None:
    with write_transaction(db):
        audit.record(
            db=db,
            action="statistics.exported",
            actor_id=user.id,
            object_type="organisation",
            object_id=user.organisation_id,
            detail=f"{what};rows={rows}{extra}",
        )


# --- the figures (already protected) ------------------------------------------------


def figure_rows(figures: Figures) -> list[Row]:
    """One row per shown line: breakdown, code, label, count ("< k" or "hidden" when hidden)."""
    k = figures.threshold
    rows: list[Row] = [
        ("cases", "", _("Cases"), _shown(figures.cases.value, figures.cases.small, k))
    ]
    for breakdown in figures.breakdowns:
        for line in breakdown.lines:
            rows.append(
                (
                    breakdown.key,
                    line.code,
                    line.label,
                    _shown(line.count.value, line.count.small, k),
                )
            )
    return rows


def _shown(value: int | None, small: bool, k: int) -> str | int:
    if value is not None:
        return value
    return f"< {k}" if small else "hidden"


def figures_dictionary() -> list[Row]:
    """What each column of the figures export means."""
    return [
        ("breakdown", _("What is counted (cases, gender, age_band, nationality, ...)"), ""),
        ("code", _("The group's code: a choice name, a month (YYYY-MM) or a stage"), ""),
        ("label", _("The group's name in the reader's language"), ""),
        (
            "count",
            _(
                "How many; “< k” when under the threshold, “hidden” when hidden so that "
                "a small count cannot be worked out"
            ),
            "",
        ),
    ]


def export_figures(
    *, db: Session, user: User, filters: Filters, fmt: str, settings: Settings
) -> Export:
    """The figures `user` may see, as a file with its dictionary; audited."""
    figures = coordinator_figures(db=db, user=user, filters=filters, settings=settings)
    rows = figure_rows(figures)
    _record(db, user, f"figures.{fmt}", len(rows), f";year={filters.year or 'all'}")
    header = ("breakdown", "code", "label", "count")
    dictionary_header = ("column", "meaning", "codes")
    if fmt == "csv":
        body = csv_stream(header, rows)
    else:
        body = xlsx_stream(
            [
                (_("Figures"), header, lambda: rows),
                (_("Data dictionary"), dictionary_header, figures_dictionary),
            ]
        )
    return Export(f"figures.{fmt}", _media(fmt), body, len(rows))


def _media(fmt: str) -> str:
    if fmt == "csv":
        return "text/csv; charset=utf-8"
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- the anonymised records (CTDC layout, k-anonymous) -------------------------------


def records_dictionary() -> list[Row]:
    """What each column of the record export means, and its codes."""
    meanings = {
        "yearOfRegistration": (_("Year the case was opened"), "YYYY"),
        "gender": (_("Gender"), "Female; Male; Other; empty: not known"),
        "ageBroad": (_("Age at intake, in CTDC's bands"), "0-8 … 48+; 0-17 / 18+ when generalised"),
        "majorityStatus": (_("Minor or adult at intake"), "Minor; Adult"),
        "citizenship": (_("Nationality"), "ISO 3166 alpha-2"),
        "CountryOfExploitation": (
            _("Country where the exploitation took place"),
            "ISO 3166 alpha-2",
        ),
        "typeOfExploitConcatenated": (_("Types of exploitation"), _("choice names joined with ;")),
    }
    rows: list[Row] = []
    for column in ctdc.COLUMNS:
        meaning, values = meanings.get(
            column, (_("1 when it applies to the person, else 0"), "0; 1")
        )
        rows.append((column, meaning, values))
    return rows


def _open_records(
    session_factory: sessionmaker[Session], ids: Sequence[str], k: int
) -> Iterator[Row]:
    """Both passes in one snapshot, in a session of their own; yields the rows. (The plan
    is made again in this snapshot, so a case opened or anonymised since the request was
    counted cannot leave a released combination with fewer than k people.)"""
    with session_factory() as db, read_transaction(db):
        bind = db.get_bind()
        if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
            db.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        chosen = ctdc.plan(ctdc.count_keys(db=db, organisation_ids=ids), k)
        yield from ctdc.released_rows(db=db, organisation_ids=ids, chosen=chosen)


def records_plan(*, db: Session, user: User, settings: Settings) -> ctdc.Plan:
    """How many rows a record export would release, generalise and leave out (the exports
    page shows it); the look is audited like every view of the figures."""
    with read_transaction(db):
        ids = reporting_organisation_ids(db=db, user=user)
        chosen = ctdc.plan(
            ctdc.count_keys(db=db, organisation_ids=ids), settings.statistics_threshold
        )
    with write_transaction(db):
        audit.record(
            db=db,
            action="statistics.viewed",
            actor_id=user.id,
            object_type="organisation",
            object_id=user.organisation_id,
            detail=f"exports;organisations={len(ids)}",
        )
    return chosen


def export_records(
    *,
    db: Session,
    session_factory: sessionmaker[Session],
    user: User,
    fmt: str,
    settings: Settings,
) -> tuple[Export, ctdc.Plan]:
    """The anonymised records of the organisations `user`'s figures cover, k-anonymous,
    with the dictionary; audited with the rows released, generalised and suppressed."""
    k = settings.statistics_threshold
    with read_transaction(db):
        ids = reporting_organisation_ids(db=db, user=user)
        chosen = ctdc.plan(ctdc.count_keys(db=db, organisation_ids=ids), k)
    _record(
        db,
        user,
        f"records.{fmt}",
        chosen.released,
        f";generalised={chosen.generalised};suppressed={chosen.suppressed}",
    )

    def rows() -> Iterable[Row]:
        return _open_records(session_factory, ids, k)

    about: list[Row] = [
        (_("People in the organisations' cases"), chosen.rows),
        (_("Rows in this file"), chosen.released),
        (_("Rows generalised so that every combination holds k people"), chosen.generalised),
        (_("Rows left out because even generalised they would stand out"), chosen.suppressed),
        ("k", k),
    ]
    if fmt == "csv":
        body = csv_stream(ctdc.COLUMNS, rows())
    else:
        body = xlsx_stream(
            [
                (_("Records"), ctdc.COLUMNS, rows),
                (_("Data dictionary"), ("column", "meaning", "codes"), records_dictionary),
                (_("About this file"), ("", ""), lambda: about),
            ]
        )
    return Export(f"records-ctdc.{fmt}", _media(fmt), body, chosen.released), chosen


def dictionary_csv(*, kind: str) -> Export:
    """The data dictionary of an export as a CSV file of its own."""
    rows = records_dictionary() if kind == "records" else figures_dictionary()
    return Export(
        f"dictionary-{kind}.csv",
        _media("csv"),
        csv_stream(("column", "meaning", "codes"), rows),
        len(rows),
    )
