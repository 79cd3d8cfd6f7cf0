"""Shared pieces of the XLSForm importer: the report, a row, names, languages and texts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from intake.forms.xlsform_columns import language_code, normalise_header
from intake.forms.xlsform_workbook import Cell, Sheet
from intake.i18n import gettext as _


@dataclass(frozen=True)
class Notice:
    """A warning or refusal, tied to the cell it is about."""

    cell: str
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        tail = f" ({_('suggestion')}: {self.suggestion})" if self.suggestion else ""
        return f"{self.cell}: {self.message}{tail}"


@dataclass
class ImportResult:
    """The YAML of an imported form and what became of the workbook."""

    form_id: str = ""
    yaml_text: str = ""
    questions: int = 0
    choice_lists: int = 0
    languages: list[str] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)
    refusals: list[Notice] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the loader's, on the YAML

    @property
    def ok(self) -> bool:
        return bool(self.yaml_text) and not self.refusals and not self.problems

    def report(self) -> str:
        lines = [
            _(
                "%(q)s questions, %(c)s choice lists, languages: %(l)s",
                q=self.questions,
                c=self.choice_lists,
                l=", ".join(self.languages) or "-",
            ),
            _(
                "%(w)s warnings, %(r)s refusals, %(p)s problems in the resulting form",
                w=len(self.warnings),
                r=len(self.refusals),
                p=len(self.problems),
            ),
        ]
        lines += [f"{_('warning')}: {n}" for n in self.warnings]
        lines += [f"{_('refused')}: {n}" for n in self.refusals]
        lines += [f"{_('problem')}: {p}" for p in self.problems]
        return "\n".join(lines)


def safe_name(raw: str, prefix: str = "q") -> str:
    """A form-language name for an XLSForm name: lowercase letters, digits and _."""
    name = re.sub(r"[^a-z0-9_]", "_", raw.strip().lower())
    if not name or not name[0].isalpha():
        name = f"{prefix}_{name}".replace("__", "_")
    return name[:63].rstrip("_") or prefix


@dataclass
class Row:
    cells: dict[str, Cell]  # normalised key (with ::language) -> cell
    kind: str  # a field type, "begin_group", "end_group", "begin_repeat", "end_repeat", "skip"
    raw_name: str = ""
    name: str = ""
    list_name: str = ""


class ImporterBase:
    """The importer's state, its warnings and refusals, and per-language texts."""

    def __init__(
        self, sheets: dict[str, Sheet], result: ImportResult, form_id: str | None, file: str
    ):
        self.sheets = sheets
        self.result = result
        self.forced_id = form_id
        self.file = file
        self.languages: list[str] = []
        self.column_language: dict[str, str] = {}  # header language text -> code
        self.missing: dict[str, list[str]] = {}  # language -> cells lacking it
        self.names: dict[str, str] = {}
        self.types: dict[str, str] = {}
        self.skipped: set[str] = set()
        self.field_lists: dict[str, str] = {}  # field name -> choice list name
        self.choice_names: dict[str, dict[str, str]] = {}  # list -> raw -> name
        self.choice_columns: dict[str, set[str]] = {}  # list -> attribute columns
        self.used_names: set[str] = set()
        self.title: dict[str, str] = {}

    def warn(self, cell: str, message: str, suggestion: str | None = None) -> None:
        self.result.warnings.append(Notice(cell, message, suggestion))

    def refuse(self, cell: str, message: str, suggestion: str | None = None) -> None:
        self.result.refusals.append(Notice(cell, message, suggestion))

    # -- languages and texts ---------------------------------------------------------

    def choose_languages(self, settings: dict[str, Cell]) -> None:
        named: list[str] = []
        for sheet in (self.sheets.get("survey"), self.sheets.get("choices")):
            if sheet is None:
                continue
            for column, header in sorted(sheet.headers.items()):
                _key, language = normalise_header(header)
                if language is None or language in self.column_language:
                    continue
                code = language_code(language)
                if code is None:
                    self.refuse(
                        sheet.header_ref(column),
                        _("the language %(lang)s has no code", lang=language),
                        _("write it as 'Name (code)', e.g. 'English (en)'"),
                    )
                    continue
                self.column_language[language] = code
                if code not in named:
                    named.append(code)
        default_cell = settings.get("default_language")
        default = None
        if default_cell is not None:
            default = self.column_language.get(default_cell.value) or language_code(
                default_cell.value
            )
            if default is None:
                self.warn(default_cell.ref, _("the default language has no code; 'en' is used"))
        default = default or (named[0] if named else "en")
        self.languages = [default] + [code for code in named if code != default]

    def texts(self, by_language: dict[str | None, Cell], fallback: str) -> dict[str, str]:
        """Per-language text; a language without one gets the default's (reported)."""
        found: dict[str, str] = {}
        for language, cell in by_language.items():
            code = self.languages[0] if language is None else self.column_language.get(language)
            if code is not None:
                found.setdefault(code, cell.value)
        first = found.get(self.languages[0]) or next(iter(found.values()), fallback)
        any_cell = next(iter(by_language.values()), None)
        for code in self.languages:
            if not found.get(code):
                if any_cell is not None:
                    self.missing.setdefault(code, []).append(any_cell.ref)
                found[code] = first
        return {code: found[code] for code in self.languages}

    def report_missing_translations(self) -> None:
        for code, cells in self.missing.items():
            self.warn(
                cells[0],
                _(
                    "%(n)s texts have no '%(lang)s' translation; the default language's text"
                    " is used",
                    n=len(cells),
                    lang=code,
                ),
            )

    @staticmethod
    def translated(cells: dict[str, Cell], key: str) -> dict[str | None, Cell]:
        found: dict[str | None, Cell] = {}
        for header, cell in cells.items():
            base, language = normalise_header(header)
            if base == key:
                found[language] = cell
        return found
