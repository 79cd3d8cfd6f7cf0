"""Import an XLSForm (.xlsx, as made for ODK, KoBoToolbox, SurveyCTO, Ona) as a form definition.

The workbook is read safely (intake.forms.xlsform_workbook), its spellings
normalised (intake.forms.xlsform_columns) and its XPath translated
(intake.forms.xlsform_xpath). The result is YAML in the form language plus a
report: what became questions, choice lists and languages, what could not be
kept (warnings, each with its cell) and what was refused (refusals: the
form must not be used until they are resolved). The YAML is then compiled by
load_form, so an import never yields a form the loader would refuse unnoticed.

Mapping: a top-level group is a page (its relevant the page's); questions
outside a group are gathered in pages of their own; a group inside a page is
flattened, its relevant joined to each question's; a repeat is a repeat field
(a constant repeat_count sets min and max).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from intake.forms.loader import load_form
from intake.forms.xlsform_base import ImportResult, Notice, Row, safe_name
from intake.forms.xlsform_columns import (
    SETTINGS_ALIASES,
    control_type,
    normalise_header,
    select_type,
)
from intake.forms.xlsform_questions import QuestionsMixin
from intake.forms.xlsform_workbook import Cell, WorkbookRefused, read_sheets
from intake.i18n import gettext as _
from intake.yaml_source import DefinitionProblems, problem_lines

TYPES = {
    "text": "text",
    "string": "text",
    "integer": "integer",
    "int": "integer",
    "decimal": "decimal",
    "date": "date",
    "note": "note",
    "calculate": "calculate",
    "acknowledge": "acknowledge",
    "trigger": "acknowledge",
}
METADATA = frozenset(
    [
        "start",
        "end",
        "today",
        "deviceid",
        "imei",
        "phonenumber",
        "username",
        "email",
        "simserial",
        "subscriberid",
        "audit",
        "start-geopoint",
        "background-geopoint",
        "uri:email",
        "uri:phonenumber",
        "uri:deviceid",
        "uri:username",
        "uri:simserial",
        "uri:subscriberid",
    ]
)


class _Dumper(yaml.SafeDumper):
    """Plain YAML: the loader refuses anchors, so a repeated text is written out again."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def import_xlsform(data: bytes, *, form_id: str | None = None, file: str = "form") -> ImportResult:
    """Translate an .xlsx XLSForm into the form language, with a report of what happened."""
    result = ImportResult()
    try:
        sheets = read_sheets(data)
    except WorkbookRefused as refused:
        result.refusals.append(Notice(file, refused.message))
        return result
    if "survey" not in sheets or not sheets["survey"].rows:
        result.refusals.append(Notice(file, _("the workbook has no survey sheet with questions")))
        return result
    _Importer(sheets, result, form_id, file).run()
    return result


class _Importer(QuestionsMixin):
    # -- the whole form --------------------------------------------------------------

    def run(self) -> None:
        settings = self.settings()
        self.choose_languages(settings)
        form_id = self.form_id(settings)
        title_cell = settings.get("form_title")
        self.title = self.texts({None: title_cell} if title_cell else {}, fallback=form_id)
        lists = self.choice_lists()
        rows = self.survey_rows()
        pages = self.structure(rows)
        form: dict[str, Any] = {
            "id": form_id,
            "version": self.version(settings.get("version")),
            "languages": self.languages,
            "title": self.title,
        }
        if lists:
            form["choice_lists"] = lists
        form["pages"] = pages
        self.report_missing_translations()
        self.warn(
            self.file,
            _("no question is marked sensitive"),
            _("add 'sensitive: true' to the questions whose answers must be encrypted"),
        )
        result = self.result
        result.form_id = form_id
        result.languages = list(self.languages)
        result.choice_lists = len(lists)
        result.questions = sum(
            1 for t in self.types.values() if t not in ("note", "repeat", "group")
        )
        result.yaml_text = f"# {_('Imported from an XLSForm')}\n" + yaml.dump(
            form, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
        )
        if not pages:
            result.refusals.append(Notice(self.file, _("no question could be imported")))
            return
        try:
            load_form(result.yaml_text, file=f"{form_id}.yaml")
        except DefinitionProblems as problems:
            result.problems = problem_lines(problems.problems)

    def settings(self) -> dict[str, Cell]:
        sheet = self.sheets.get("settings")
        if sheet is None or not sheet.rows:
            return {}
        found: dict[str, Cell] = {}
        for header, cell in sheet.rows[0].items():
            key = header.strip().lower()
            key = SETTINGS_ALIASES.get(key, key)
            if key in ("form_title", "form_id", "version", "default_language"):
                found[key] = cell
            else:
                self.warn(cell.ref, _("the setting %(key)s is not used", key=header))
        return found

    def form_id(self, settings: dict[str, Cell]) -> str:
        raw = self.forced_id or (settings["form_id"].value if "form_id" in settings else self.file)
        name = safe_name(raw.rsplit("/", 1)[-1].removesuffix(".xlsx"), "form")
        if name != raw and not self.forced_id:
            cell = settings["form_id"].ref if "form_id" in settings else self.file
            self.warn(cell, _("the form id %(raw)s became %(name)s", raw=raw, name=name))
        return name

    def version(self, cell: Cell | None) -> int:
        if cell is None:
            return 1
        text = cell.value.strip()
        if text.isdigit() and 1 <= int(text) <= 2_147_483_647:
            return int(text)
        self.warn(cell.ref, _("the version %(v)s is not a whole number; 1 is used", v=text))
        return 1

    # -- survey rows -----------------------------------------------------------------

    def survey_rows(self) -> list[Row]:
        rows: list[Row] = []
        for cells in self.sheets["survey"].rows:
            keys = {normalise_header(h)[0]: c for h, c in cells.items()}
            type_cell = keys.get("type")
            if type_cell is None:
                first = next(iter(cells.values()))
                self.warn(first.ref, _("a row without a type is skipped"))
                continue
            rows.append(self.classify(cells, keys, type_cell))
        return rows

    def classify(self, cells: dict[str, Cell], keys: dict[str, Cell], type_cell: Cell) -> Row:
        text = re.sub(r"\s+", " ", type_cell.value.strip())
        raw_name = keys["name"].value if "name" in keys else ""
        control = control_type(text)
        if control is not None:
            row = Row(cells, f"{control[0]}_{control[1]}", raw_name)
            if control[0] == "begin":
                row.name = self.claim(raw_name or control[1], keys.get("name") or type_cell)
                self.types[row.name] = control[1]
                if control[1] == "repeat":
                    self.names[raw_name] = row.name
            return row
        selected = select_type(text)
        kind = TYPES.get(text.lower())
        if selected is not None and selected[0] in ("select_one", "select_multiple"):
            kind = selected[0]
            if selected[2]:
                self.warn(type_cell.ref, _("or_other is not supported; add an 'other' choice"))
        if kind is None:
            if text.lower() in METADATA:
                self.warn(
                    type_cell.ref,
                    _("the metadata %(t)s is not imported; intake records who and when", t=text),
                )
            else:
                self.warn(
                    type_cell.ref,
                    _("the question type %(t)s is not supported; the question is skipped", t=text),
                )
            self.skipped.add(raw_name)
            return Row(cells, "skip", raw_name)
        if not raw_name:
            self.refuse(type_cell.ref, _("a question without a name"))
            return Row(cells, "skip", raw_name)
        row = Row(cells, kind, raw_name, self.claim(raw_name, keys["name"]))
        self.names[raw_name] = row.name
        self.types[row.name] = kind
        if selected is not None:
            row.list_name = safe_name(selected[1], "list")
            self.field_lists[row.name] = row.list_name
        return row

    def claim(self, raw: str, cell: Cell) -> str:
        name = safe_name(raw)
        if name in self.used_names:
            self.refuse(cell.ref, _("the name %(raw)s is used twice (once renamed)", raw=raw))
            suffix = 2
            while f"{name}_{suffix}" in self.used_names:
                suffix += 1
            name = f"{name}_{suffix}"
        elif name != raw:
            self.warn(cell.ref, _("the name %(raw)s became %(name)s", raw=raw, name=name))
        self.used_names.add(name)
        return name

    # -- pages, groups and repeats ---------------------------------------------------

    def structure(self, rows: list[Row]) -> list[dict[str, Any]]:
        from intake.forms.xlsform_structure import Structure

        return Structure(self, rows).pages()
