"""Groups and repeats of an XLSForm survey -> pages, flattened groups and repeat fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from intake.forms.xlsform_columns import normalise_header
from intake.i18n import gettext as _

if TYPE_CHECKING:
    from intake.forms.xlsform import _Importer
    from intake.forms.xlsform_base import Row


@dataclass
class _Frame:
    kind: str  # page, group, repeat, ignored
    fields: list[dict[str, Any]]
    conditions: list[str]  # relevants of enclosing flattened groups
    ref: str
    name: str = ""
    holder: dict[str, Any] | None = field(default=None)


def join_conditions(conditions: list[str]) -> str | None:
    if not conditions:
        return None
    if len(conditions) == 1:
        return conditions[0]
    return " and ".join(f"({c})" for c in conditions)


class Structure:
    """Walks the survey rows once, keeping a stack of the groups and repeats open."""

    def __init__(self, importer: _Importer, rows: list[Row]) -> None:
        self.importer = importer
        self.rows = rows
        self.pages_built: list[dict[str, Any]] = []
        self.loose: list[dict[str, Any]] | None = None
        self.stack: list[_Frame] = []

    def pages(self) -> list[dict[str, Any]]:
        for row in self.rows:
            if row.kind == "skip":
                continue
            keys = {normalise_header(h)[0]: c for h, c in row.cells.items()}
            if row.kind == "begin_group":
                self.begin_group(row, keys)
            elif row.kind == "begin_repeat":
                self.begin_repeat(row, keys)
            elif row.kind in ("end_group", "end_repeat"):
                self.end(row, keys)
            else:
                fields, conditions = self.target()
                fields.append(self.importer.question(row, conditions))
        for frame in reversed(self.stack):
            self.importer.refuse(frame.ref, _("this group or repeat is never ended"))
        return self.without_empty()

    def target(self) -> tuple[list[dict[str, Any]], list[str]]:
        if self.stack:
            return self.stack[-1].fields, self.stack[-1].conditions
        if self.loose is None:
            self.loose = []
            name = f"page_{len(self.pages_built) + 1}"
            self.pages_built.append(
                {"name": name, "title": self.importer.title, "fields": self.loose}
            )
        return self.loose, []

    def relevant(self, keys: dict[str, Any]) -> str | None:
        return self.importer.expression(keys["relevant"]) if "relevant" in keys else None

    def label(self, row: Row) -> dict[str, str]:
        return self.importer.texts(self.importer.translated(row.cells, "label"), row.raw_name)

    def begin_group(self, row: Row, keys: dict[str, Any]) -> None:
        appearance = keys.get("appearance")
        if appearance is not None and appearance.value.strip() != "field-list":
            self.importer.warn(
                appearance.ref, _("the appearance %(a)s is not supported", a=appearance.value[:50])
            )
        own = self.relevant(keys)
        ref = keys["type"].ref
        if not self.stack:
            self.loose = None
            page: dict[str, Any] = {"name": row.name, "title": self.label(row)}
            if own:
                page["relevant"] = own
            page["fields"] = []
            self.pages_built.append(page)
            self.stack.append(_Frame("page", page["fields"], [], ref, row.name))
            return
        parent = self.stack[-1]
        conditions = parent.conditions + ([own] if own else [])
        if self.importer.translated(row.cells, "label"):
            note: dict[str, Any] = {"name": row.name, "type": "note", "label": self.label(row)}
            if conditions:
                note["relevant"] = join_conditions(conditions)
            parent.fields.append(note)
            self.importer.types[row.name] = "note"
        self.importer.warn(
            ref, _("the group %(name)s is flattened into its page", name=row.raw_name or row.name)
        )
        self.stack.append(_Frame("group", parent.fields, conditions, ref, row.name))

    def begin_repeat(self, row: Row, keys: dict[str, Any]) -> None:
        ref = keys["type"].ref
        if any(frame.kind in ("repeat", "ignored") for frame in self.stack):
            self.importer.refuse(
                ref,
                _("a repeat inside a repeat is not supported"),
                _("make the inner repeat a separate form or flatten it"),
            )
            self.stack.append(_Frame("ignored", [], [], ref, row.name))
            return
        fields, conditions = self.target()
        own = self.relevant(keys)
        repeat: dict[str, Any] = {"name": row.name, "type": "repeat", "label": self.label(row)}
        relevant = join_conditions(conditions + ([own] if own else []))
        if relevant:
            repeat["relevant"] = relevant
        low, high = self.importer.repeat_rows(keys.get("repeat_count"))
        if low is not None:
            repeat["min"], repeat["max"] = low, high
        repeat["fields"] = []
        fields.append(repeat)
        self.stack.append(_Frame("repeat", repeat["fields"], [], ref, row.name, repeat))

    def end(self, row: Row, keys: dict[str, Any]) -> None:
        wanted = "repeat" if row.kind == "end_repeat" else "group"
        if not self.stack:
            self.importer.refuse(keys["type"].ref, _("an end without a begin"))
            return
        frame = self.stack[-1]
        kind = "repeat" if frame.kind in ("repeat", "ignored") else "group"
        if kind != wanted:
            self.importer.refuse(
                keys["type"].ref,
                _(
                    "this end %(w)s closes a %(k)s opened at %(ref)s",
                    w=wanted,
                    k=kind,
                    ref=frame.ref,
                ),
            )
        self.stack.pop()
        if frame.kind == "page":
            self.loose = None

    def without_empty(self) -> list[dict[str, Any]]:
        pages = []
        for page in self.pages_built:
            page["fields"] = [f for f in page["fields"] if f["type"] != "repeat" or f["fields"]]
            if page["fields"]:
                pages.append(page)
            else:
                self.importer.warn(
                    self.importer.file, _("the empty group %(name)s is left out", name=page["name"])
                )
        return pages
