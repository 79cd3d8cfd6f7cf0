"""Translate the XPath of an XLSForm cell into the expression language, or refuse it.

Only the subset that has one meaning in both languages is translated:
${field}, '.', literals, comparisons, and/or/not(), arithmetic (div for /),
true()/false(), selected(), count-selected(), today(), if(), coalesce(),
string-length(), count() of a repeat and date('YYYY-MM-DD'). Everything else
(paths, predicates, jr: functions, concat(), regex(), ...) is refused with a
suggestion: an expression is never dropped or changed in meaning.

XPath's empty text '' is the language's null (an unanswered field), so
`${x} = ''` keeps its meaning. `selected(${x}, 'a')` of a select_one becomes
`x = 'a'`. Choice names that had to be renamed are renamed in the literals
compared with their field too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from intake.i18n import gettext as _

# XPath function -> the language's function (same arguments, same meaning).
SAME_FUNCTIONS = {
    "today": "today",
    "if": "if",
    "coalesce": "coalesce",
    "string-length": "len",
    "count-selected": "count",
    "count": "count",
    "date": "date",
    "selected": "selected",
    "not": "not",
}
SUGGESTIONS = {
    "jr:choice-name": "compare the stored choice name instead, e.g. ${x} = 'name'",
    "jr:itext": "compare the stored choice name instead",
    "concat": "put the texts in a label or a note; the language has no text joining",
    "regex": "check the answer with comparisons and string-length(), or drop the constraint",
    "now": "use today()",
    "position": "refer to a question of the same repeat by ${name}",
    "indexed-repeat": "refer to a question of the same repeat by ${name}",
    "current": "refer to the question by ${name}",
    "pulldata": "external data is not supported; put the choices in the form",
    "instance": "put the choices in the form and use choice_filter",
    "once": "use a default instead",
    "int": "the language has no rounding; compare with bounds instead",
    "round": "the language has no rounding; compare with bounds instead",
    "number": "numbers are already numbers; remove number()",
    "string": "remove string()",
    "format-date": "dates are shown in the reader's format; remove format-date()",
    "decimal-date-time": "subtract dates directly: date - date is a number of days",
    "selected-at": "use selected() with the choice name",
    "contains": "contains() is not translated; use selected() for a choice",
}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<ref>\$\{[^}]*\})
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<number>\d+(?:\.\d+)?|\.\d+)
      | (?P<name>[A-Za-z_][A-Za-z0-9_.:\-]*)
      | (?P<op>!=|<=|>=|\.\.|[=<>+\-*(),./|\[\]@])
    )""",
    re.VERBOSE,
)


class XPathRefused(Exception):
    """The expression uses something the language does not have."""

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion


@dataclass(frozen=True)
class Context:
    """What a translation needs to know about the form."""

    names: Mapping[str, str]  # XLSForm name -> form field name
    types: Mapping[str, str]  # form field name -> field type
    skipped: frozenset[str]  # XLSForm names of questions not imported
    rename_choice: Callable[[str, str], str]  # (field name, raw choice) -> choice name
    current: str | None = None  # the field '.' stands for
    choice_columns: frozenset[str] | None = None  # set in a choice_filter


def _tokens(source: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    source = source.rstrip()
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None or match.end() == position:
            raise XPathRefused(
                _("the character %(char)r is not understood", char=source[position:].strip()[:1])
            )
        kind = match.lastgroup or "op"
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def translate(source: str, context: Context) -> str:
    """The expression-language text of `source`, or XPathRefused."""
    tokens = _tokens(source)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
        if kind == "ref":
            out.append(_field(text[2:-1].strip(), context))
        elif kind == "string":
            out.append("null" if len(text) == 2 else _choice_literal(tokens, i, text, context))
        elif kind == "number":
            out.append(text if not text.startswith(".") else "0" + text)
        elif kind == "name" and following == ("op", "("):
            i = _function(tokens, i, text, context, out)
            continue
        elif kind == "name" and text in ("and", "or"):
            out.append(text)
        elif kind == "name" and text == "div":
            out.append("/")
        elif kind == "name" and text == "mod":
            raise XPathRefused(_("the operator mod is not supported"), "compare with bounds")
        elif kind == "name" and context.choice_columns is not None:
            out.append(_choice_column(text, context))
        elif kind == "name":
            raise XPathRefused(
                _("the name %(name)s is not a reference", name=text),
                "refer to a question as ${name}",
            )
        elif text in ("..", "/", "[", "]", "@", "|"):
            raise XPathRefused(
                _("XPath paths and predicates (%(op)s) are not supported", op=text),
                "refer to a question as ${name}",
            )
        elif text == ".":
            out.append(".")
        else:
            out.append(text)
        i += 1
    return _join(out)


def _join(parts: list[str]) -> str:
    text = ""
    for part in parts:
        if text and not (text.endswith("(") or part in (")", ",")):
            text += " "
        text += part
    return text


def _field(raw: str, context: Context) -> str:
    if raw in context.skipped:
        raise XPathRefused(
            _("${%(name)s} refers to a question that was not imported", name=raw),
            "remove the reference or the condition",
        )
    if raw not in context.names:
        raise XPathRefused(_("${%(name)s} is not a question of this form", name=raw))
    return context.names[raw]


def _choice_column(column: str, context: Context) -> str:
    if column == "name":
        return "choice"
    if context.choice_columns and column in context.choice_columns:
        return f"choice.{column}"
    raise XPathRefused(
        _("%(name)s is not a column of the choices sheet", name=column),
        "a choice_filter compares choice columns with ${question}",
    )


def _field_of(token: tuple[str, str], context: Context) -> str | None:
    kind, text = token
    if kind == "ref":
        return context.names.get(text[2:-1].strip())
    if token == ("op", ".") and context.choice_columns is None:
        return context.current
    return None


def _choice_literal(tokens: list[tuple[str, str]], i: int, text: str, context: Context) -> str:
    """Rename a choice compared with its select field (x = '1' -> x = 'n1')."""
    value = text[1:-1]
    for near, op in ((i - 2, i - 1), (i + 2, i + 1)):
        if 0 <= near < len(tokens) and tokens[op][1] in ("=", "!="):
            field = _field_of(tokens[near], context)
            if field is not None and context.types.get(field, "").startswith("select"):
                value = context.rename_choice(field, value)
    if "'" in value:
        return f'"{value}"'
    return f"'{value}'"


def _function(
    tokens: list[tuple[str, str]], i: int, name: str, context: Context, out: list[str]
) -> int:
    """Translate the call at tokens[i]; return the index after its name and '('."""
    if name in ("true", "false"):
        if tokens[i + 2 : i + 3] != [("op", ")")]:
            raise XPathRefused(_("%(name)s() takes no argument", name=name))
        out.append(name)
        return i + 3
    if name == "selected":
        rewritten = _selected(tokens, i, context)
        if rewritten is not None:
            out.append(rewritten)
            return i + 6
    if name not in SAME_FUNCTIONS:
        raise XPathRefused(
            _("the function %(name)s is not supported", name=name),
            SUGGESTIONS.get(name, "rewrite it with the functions the form language has"),
        )
    target = SAME_FUNCTIONS[name]
    out.append("not (" if target == "not" else f"{target}(")
    return i + 2


def _selected(tokens: list[tuple[str, str]], i: int, context: Context) -> str | None:
    """selected(${x}, 'a'): for a select_one, x = 'a'; for a select_multiple, kept."""
    call = tokens[i : i + 6]
    if len(call) < 6 or call[3] != ("op", ",") or call[5] != ("op", ")"):
        return None
    if call[4][0] != "string":
        return None
    field = _field_of(call[2], context)
    if field is None:
        return None
    subject = "." if call[2] == ("op", ".") else _field(call[2][1][2:-1].strip(), context)
    choice = context.rename_choice(field, call[4][1][1:-1])
    quoted = f'"{choice}"' if "'" in choice else f"'{choice}'"
    if context.types.get(field) == "select_one":
        return f"({subject} = {quoted})"
    return f"selected({subject}, {quoted})"
