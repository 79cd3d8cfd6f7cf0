"""Hostile workbooks are refused with a clear message, within bounded time and memory."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

from intake.forms.xlsform import import_xlsform
from intake.forms.xlsform_workbook import MAX_ROWS
from tests.forms.xlsform_books import workbook

BASIC = [["type", "name", "label"], ["text", "a", "A"]]


def _refusal(data: bytes) -> str:
    result = import_xlsform(data, file="book.xlsx")
    assert not result.ok and result.yaml_text == ""
    return result.refusals[0].message


def _with_extra_part(data: bytes, name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename))
        target.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def test_not_a_zip() -> None:
    assert "not a zip" in _refusal(b"type,name,label\ntext,a,A\n")


def test_old_xls_format() -> None:
    assert ".xls" in _refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)


def test_a_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert "not an .xlsx" in _refusal(buffer.getvalue())


def test_zip_bomb_is_refused_from_the_directory() -> None:
    bomb = _with_extra_part(workbook(BASIC), "xl/media/big.bin", b"\0" * (30 * 1024 * 1024))
    assert len(bomb) < 1024 * 1024
    assert "zip bomb" in _refusal(bomb)


def test_macros_are_refused() -> None:
    data = _with_extra_part(workbook(BASIC), "xl/vbaProject.bin", b"macro")
    assert "macros" in _refusal(data)


def test_external_links_are_refused() -> None:
    data = _with_extra_part(workbook(BASIC), "xl/externalLinks/externalLink1.xml", b"<x/>")
    assert "links to other workbooks" in _refusal(data)


def test_formulas_are_refused_never_evaluated() -> None:
    data = workbook([["type", "name", "label"], ["text", "a", "=1+1"]])
    message = _refusal(data)
    assert "survey!C2" in message and "formulas" in message


def test_100000_rows_are_refused() -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("survey")
    sheet.append(["type", "name", "label"])
    for index in range(100_000):
        sheet.append(["text", f"q{index}", "Q"])
    buffer = io.BytesIO()
    book.save(buffer)
    assert f"more than {MAX_ROWS} rows" in _refusal(buffer.getvalue())


def test_damaged_workbook() -> None:
    data = workbook(BASIC)
    damaged = _with_extra_part(data, "xl/worksheets/sheet1.xml", b"<not xml")
    result = import_xlsform(damaged, file="book.xlsx")
    assert not result.ok


def test_empty_and_garbage_survey() -> None:
    assert "no survey" in _refusal(workbook([["type", "name", "label"]]))
    result = import_xlsform(workbook([["type", "name"], ["weird type", "x"]]), file="b.xlsx")
    assert not result.ok
