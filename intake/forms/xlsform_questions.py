"""One XLSForm survey row -> one field of the form language; the choices sheet -> choice lists."""

from __future__ import annotations

import re
from typing import Any

from intake.forms.schema import MAX_REPEAT_ROWS
from intake.forms.xlsform_base import ImporterBase, Row, safe_name
from intake.forms.xlsform_columns import normalise_header
from intake.forms.xlsform_workbook import Cell
from intake.forms.xlsform_xpath import Context, XPathRefused, translate
from intake.i18n import gettext as _

# Keys each type keeps (besides name, type, label, hint, relevant): as in the loader.
_ANSWERED = ("required", "constraint", "constraint_message", "default")
KEEP = {
    "note": (),
    "acknowledge": ("required",),
    "calculate": ("calculation",),
    "repeat": (),
}
IGNORED_COLUMNS = frozenset(
    {"read_only", "required_message", "guidance_hint", "no_app_error_string", "parameters"}
)
MEDIA = frozenset({"image", "audio", "video", "big-image", "media"})


class QuestionsMixin(ImporterBase):
    """Choice lists and questions, with their expressions translated."""

    # -- choices ---------------------------------------------------------------------

    def choice_lists(self) -> dict[str, list[dict[str, Any]]]:
        sheet = self.sheets.get("choices")
        lists: dict[str, list[dict[str, Any]]] = {}
        if sheet is None:
            return lists
        for cells in sheet.rows:
            keys = {normalise_header(h)[0]: c for h, c in cells.items()}
            if "list_name" not in keys or "name" not in keys:
                first = next(iter(cells.values()))
                self.warn(first.ref, _("a choice row without list_name or name is skipped"))
                continue
            raw_list = keys["list_name"].value
            list_name = safe_name(raw_list, "list")
            names = self.choice_names.setdefault(list_name, {})
            raw = keys["name"].value
            name = safe_name(raw, "c")
            if name in names.values() and names.get(raw) != name:
                self.refuse(
                    keys["name"].ref,
                    _("the choice %(raw)s clashes with another of the list once renamed", raw=raw),
                )
                continue
            if raw in names:
                self.warn(keys["name"].ref, _("the choice %(raw)s is listed twice", raw=raw))
                continue
            if name != raw:
                self.warn(
                    keys["name"].ref,
                    _("the choice %(raw)s is stored as %(name)s", raw=raw, name=name),
                )
            names[raw] = name
            choice: dict[str, Any] = {
                "name": name,
                "label": self.texts(self.translated(cells, "label"), fallback=raw),
            }
            attributes = self.attributes(cells, list_name)
            if attributes:
                choice["attributes"] = attributes
            lists.setdefault(list_name, []).append(choice)
        return lists

    def attributes(self, cells: dict[str, Cell], list_name: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for header, cell in cells.items():
            key, language = normalise_header(header)
            if key in ("list_name", "name", "label") or language is not None:
                if key in MEDIA:
                    self.warn(cell.ref, _("media are not imported"))
                continue
            if key in MEDIA:
                self.warn(cell.ref, _("media are not imported"))
            elif not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", key) or len(cell.value) > 200:
                self.warn(cell.ref, _("the column %(col)s is not imported", col=header))
            else:
                found[key] = self.renamed_value(cell.value)
                self.choice_columns.setdefault(list_name, set()).add(key)
        return found

    def renamed_value(self, value: str) -> str:
        """A choice attribute that names a choice (cascading selects) follows its renaming."""
        for names in self.choice_names.values():
            if value in names:
                return names[value]
        return value

    def rename_choice(self, field_name: str, raw: str) -> str:
        names = self.choice_names.get(self.field_lists.get(field_name, ""), {})
        return names.get(raw, raw)

    # -- one question ----------------------------------------------------------------

    def expression(
        self, cell: Cell, *, current: str | None = None, lst: str | None = None
    ) -> str | None:
        context = Context(
            names=self.names,
            types=self.types,
            skipped=frozenset(self.skipped),
            rename_choice=self.rename_choice,
            current=current,
            choice_columns=frozenset(self.choice_columns.get(lst, set())) if lst else None,
        )
        try:
            return translate(cell.value, context)
        except XPathRefused as refused:
            self.refuse(cell.ref, refused.message, refused.suggestion)
            # Kept, marked so that no check lets it through: the form cannot be
            # published until a person rewrites it (never dropped, never guessed).
            return f"untranslated: {cell.value}"

    def question(self, row: Row, conditions: list[str]) -> dict[str, Any]:
        keys = {normalise_header(h)[0]: c for h, c in row.cells.items()}
        built: dict[str, Any] = {"name": row.name, "type": row.kind}
        label = self.translated(row.cells, "label")
        if row.kind != "calculate" or label:
            built["label"] = self.texts(label, fallback=row.raw_name)
        hint = self.translated(row.cells, "hint")
        if hint:
            built["hint"] = self.texts(hint, fallback="")
        allowed = KEEP.get(row.kind, (*_ANSWERED,))
        if "required" in keys and "required" in allowed:
            required = self.required(keys["required"])
            if required is not None:
                built["required"] = required
        if "constraint" in keys and "constraint" in allowed:
            constraint = self.expression(keys["constraint"], current=row.name)
            if constraint is not None:
                built["constraint"] = constraint
                message = self.translated(row.cells, "constraint_message")
                if message:
                    built["constraint_message"] = self.texts(message, fallback="")
        relevant = self.expression(keys["relevant"]) if "relevant" in keys else None
        joined = [*conditions, *([relevant] if relevant else [])]
        if joined:
            built["relevant"] = (
                " and ".join(f"({c})" for c in joined) if len(joined) > 1 else joined[0]
            )
        if "default" in keys and "default" in allowed:
            self.default(built, row, keys["default"])
        if row.kind.startswith("select"):
            built["choice_list"] = row.list_name
            if row.list_name not in self.choice_names:
                self.refuse(
                    keys["type"].ref, _("there is no choice list %(name)s", name=row.list_name)
                )
            if "choice_filter" in keys:
                choice_filter = self.expression(keys["choice_filter"], lst=row.list_name)
                if choice_filter is not None:
                    built["choice_filter"] = choice_filter
        if row.kind == "calculate":
            if "calculation" not in keys:
                self.refuse(keys["type"].ref, _("a calculate row without a calculation"))
                built["calculation"] = "null"
            else:
                built["calculation"] = self.expression(keys["calculation"]) or "null"
        self.unused_columns(keys, built, row.kind)
        return built

    def required(self, cell: Cell) -> bool | str | None:
        text = cell.value.strip()
        if text.lower() in ("yes", "true", "true()", "1"):
            return True
        if text.lower() in ("no", "false", "false()", "0", ""):
            return None
        return self.expression(cell)

    def default(self, built: dict[str, Any], row: Row, cell: Cell) -> None:
        text = cell.value.strip()
        if "${" in text or "(" in text:
            self.warn(cell.ref, _("a calculated default is not supported; it is left out"))
            return
        value: Any = text
        if row.kind == "select_multiple":
            value = [self.rename_choice(row.name, part) for part in text.split()]
        elif row.kind == "select_one":
            value = self.rename_choice(row.name, text)
        elif row.kind == "integer" and re.fullmatch(r"-?\d{1,15}", text):
            value = int(text)
        elif row.kind == "decimal" and re.fullmatch(r"-?\d{1,15}(\.\d{1,15})?", text):
            value = float(text)
        built["default"] = value

    def unused_columns(self, keys: dict[str, Cell], built: dict[str, Any], kind: str) -> None:
        handled = {"type", "name", "label", "hint", "relevant", "list_name"}
        handled |= {
            k for k in ("required", "constraint", "default") if k in KEEP.get(kind, _ANSWERED)
        }
        handled |= {"constraint_message", "choice_filter", "calculation", "repeat_count"}
        for key, cell in keys.items():
            if key in handled:
                continue
            if key == "appearance":
                if cell.value.strip() == "multiline" and kind == "text":
                    built["type"] = "textarea"
                else:
                    self.warn(
                        cell.ref, _("the appearance %(a)s is not supported", a=cell.value[:50])
                    )
            elif key in MEDIA:
                self.warn(cell.ref, _("media are not imported"))
            elif key in IGNORED_COLUMNS or key.startswith("jr:"):
                self.warn(cell.ref, _("the column %(col)s is not imported", col=key))
            else:
                self.warn(cell.ref, _("the column %(col)s is not imported", col=key))

    def repeat_rows(self, cell: Cell | None) -> tuple[int | None, int | None]:
        if cell is None:
            return None, None
        text = cell.value.strip()
        if text.isdigit() and 1 <= int(text) <= MAX_REPEAT_ROWS:
            return int(text), int(text)
        self.warn(
            cell.ref,
            _(
                "a repeat_count that is not a number up to %(n)s is not supported",
                n=MAX_REPEAT_ROWS,
            ),
            _("the person adds as many rows as needed"),
        )
        return None, None
