"""Read the sheets of an XLSForm workbook (.xlsx) safely, with the cell of every value.

A workbook is a zip of XML parts. Before openpyxl reads a byte of XML, the
archive itself is judged from its central directory: too many parts, a part
that would inflate past a limit (a zip bomb), macros (.xlsm, vbaProject.bin)
or links to other workbooks are refused. Sheets are then streamed in
read-only mode; a sheet longer or wider than any form could need is refused
as soon as reading reaches that row. Formulas are refused, never evaluated:
the workbook is opened without cached values, so a formula arrives as its
text and is recognised by its cell type.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter

from intake.i18n import gettext as _

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_PARTS = 500
MAX_PART_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 40 * 1024 * 1024
# A part may inflate this many times its compressed size; XML of a sheet reaches
# about 20 to 40, a bomb reaches thousands.
MAX_RATIO = 200
MAX_ROWS = 10_000
MAX_COLUMNS = 200
MAX_CELL_CHARS = 5_000
SHEETS = ("survey", "choices", "settings")


class WorkbookRefused(Exception):
    """The file is not a workbook this importer will read; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Cell:
    """A value with the cell it came from, e.g. survey!F12."""

    sheet: str
    row: int
    column: int
    value: str

    @property
    def ref(self) -> str:
        return f"{self.sheet}!{get_column_letter(self.column)}{self.row}"


@dataclass
class Sheet:
    """One XLSForm sheet: its headers (as written) and its rows of non-empty cells."""

    name: str
    headers: dict[int, str] = field(default_factory=dict)  # column -> header text
    rows: list[dict[str, Cell]] = field(default_factory=list)  # header -> cell

    def header_ref(self, column: int) -> str:
        return f"{self.name}!{get_column_letter(column)}1"


def check_archive(data: bytes) -> None:
    """Refuse what is not a plain .xlsx archive of bounded size, before any XML is parsed."""
    if len(data) > MAX_FILE_BYTES:
        raise WorkbookRefused(
            _("the file is larger than %(mb)s MB", mb=MAX_FILE_BYTES // (1024 * 1024))
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise WorkbookRefused(
            _("this is an old .xls workbook (or an encrypted one): save it as .xlsx and try again")
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise WorkbookRefused(_("this file is not an .xlsx workbook (it is not a zip archive)"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_PARTS:
                raise WorkbookRefused(_("the workbook has too many parts"))
            total = 0
            for info in infos:
                name = info.filename.lower()
                if name.endswith("vbaproject.bin") or "macrosheets/" in name:
                    raise WorkbookRefused(
                        _("the workbook contains macros: save it as a plain .xlsx without macros")
                    )
                if name.startswith("xl/externallinks/"):
                    raise WorkbookRefused(
                        _("the workbook links to other workbooks: remove the external links")
                    )
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > MAX_PART_BYTES or (
                    info.file_size > 1024 * 1024 and ratio > MAX_RATIO
                ):
                    raise WorkbookRefused(
                        _("a part of the workbook inflates far beyond its size (a zip bomb?)")
                    )
                total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise WorkbookRefused(_("the workbook inflates far beyond its size (a zip bomb?)"))
            if "[Content_Types].xml" not in archive.namelist():
                raise WorkbookRefused(_("this zip archive is not an .xlsx workbook"))
            types = archive.read("[Content_Types].xml")
            if b"macroEnabled" in types:
                raise WorkbookRefused(
                    _("the workbook contains macros: save it as a plain .xlsx without macros")
                )
    except zipfile.BadZipFile as error:
        raise WorkbookRefused(
            _("the workbook is damaged: %(error)s", error=str(error)[:200])
        ) from None


def read_sheets(data: bytes) -> dict[str, Sheet]:
    """The survey, choices and settings sheets (names matched case-insensitively)."""
    check_archive(data)
    from openpyxl import load_workbook

    try:
        # data_only=False: a formula arrives as its text (type "f"), so it can be
        # refused; its cached result, which no one checked, is never used.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except WorkbookRefused:
        raise
    except Exception as error:  # openpyxl raises many kinds for a damaged part
        raise WorkbookRefused(
            _("the workbook cannot be read: %(error)s", error=type(error).__name__)
        ) from None
    try:
        found: dict[str, Sheet] = {}
        names = list(book.sheetnames)
        for title in names:
            key = title.strip().lower()
            if key in SHEETS and key not in found:
                found[key] = _read_sheet(book[title], key)
        if "survey" not in found and len(names) == 1:
            found["survey"] = _read_sheet(book[names[0]], "survey")
        return found
    finally:
        book.close()


def _read_sheet(worksheet: object, name: str) -> Sheet:
    sheet = Sheet(name)
    # The declared dimension, when the file has one (asking openpyxl for max_row
    # would read the whole sheet when it has none).
    dimension_rows = getattr(worksheet, "_max_row", None)
    if isinstance(dimension_rows, int) and dimension_rows > MAX_ROWS + 100:
        raise WorkbookRefused(
            _("the sheet %(sheet)s has more than %(n)s rows", sheet=name, n=MAX_ROWS)
        )
    blank_run = 0
    for row_number, row in enumerate(worksheet.iter_rows(), start=1):  # type: ignore[attr-defined]
        if row_number > MAX_ROWS + 1:
            raise WorkbookRefused(
                _("the sheet %(sheet)s has more than %(n)s rows", sheet=name, n=MAX_ROWS)
            )
        values = _row_cells(row, name, row_number)
        if row_number == 1:
            sheet.headers = {column: value for column, value in values.items()}
            continue
        cells = {
            sheet.headers[column]: Cell(name, row_number, column, value)
            for column, value in values.items()
            if column in sheet.headers
        }
        if cells:
            blank_run = 0
            sheet.rows.append(cells)
        else:
            blank_run += 1
            if blank_run > 1000:  # formatting that runs to the bottom of the sheet
                break
    return sheet


def _row_cells(row: tuple[object, ...], sheet: str, row_number: int) -> dict[int, str]:
    values: dict[int, str] = {}
    for column, cell in enumerate(row, start=1):
        value = getattr(cell, "value", None)
        if value is None:
            continue
        ref = f"{sheet}!{get_column_letter(min(column, 16384))}{row_number}"
        if column > MAX_COLUMNS:
            raise WorkbookRefused(
                _("%(cell)s: the sheet has more than %(n)s columns", cell=ref, n=MAX_COLUMNS)
            )
        if getattr(cell, "data_type", None) == "f":
            raise WorkbookRefused(
                _("%(cell)s: formulas are not read; type the value itself", cell=ref)
            )
        text = _as_text(value).strip()
        if len(text) > MAX_CELL_CHARS:
            raise WorkbookRefused(
                _("%(cell)s: the text is longer than %(n)s characters", cell=ref, n=MAX_CELL_CHARS)
            )
        if text:
            values[column] = text.replace("\u00a0", " ")
    return values


def _as_text(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat") and hasattr(value, "year"):
        return value.isoformat()[:10]  # a date typed into a default cell
    return str(value)
