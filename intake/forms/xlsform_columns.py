"""Column headers, question types and languages of an XLSForm, in their many spellings.

The spellings come from pyxform's own alias tables (the reference XLSForm
converter), so `bind::relevant`, `relevance`, `list name`, `caption`,
`select one from`, `jr:constraintMsg` and friends mean what ODK means.
"""

from __future__ import annotations

import re

from pyxform import aliases

# pyxform's second-level names -> the name used here.
_BIND_NAMES = {
    "jr:constraintmsg": "constraint_message",
    "calculate": "calculation",
    "jr:count": "repeat_count",
    "readonly": "read_only",
    "jr:requiredmsg": "required_message",
    "jr:noapperrorstring": "no_app_error_string",
}


def _survey_aliases() -> dict[str, str]:
    found: dict[str, str] = {}
    for alias, target in aliases.survey_header.items():
        name = str(target[1] if isinstance(target, tuple) else target)
        found[alias.lower()] = _BIND_NAMES.get(name.lower(), name)
    for alias, target in aliases.list_header.items():
        name = str(target[1] if isinstance(target, tuple) else target)
        found.setdefault(alias.lower(), "list_name" if name == "list name" else name)
    found["list name"] = "list_name"
    for bind, name in _BIND_NAMES.items():
        found.setdefault(bind, name)
    return found


HEADER_ALIASES = _survey_aliases()
SETTINGS_ALIASES = {
    "form_title": "form_title",
    "set_form_title": "form_title",
    "title": "form_title",
    "form_id": "form_id",
    "set_form_id": "form_id",
    "id_string": "form_id",
}
_PREFIXES = ("bind::", "bind:", "control::", "control:", "body::", "body:", "media::")


def normalise_header(header: str) -> tuple[str, str | None]:
    """(key, language) of a header: 'bind::relevant' -> ('relevant', None),
    'label::English (en)' -> ('label', 'English (en)')."""
    text = re.sub(r"\s+", " ", header.strip())
    lower = text.lower()
    for prefix in _PREFIXES:
        if lower.startswith(prefix):
            text = text[len(prefix) :]
            break
    language = None
    if "::" in text:
        text, language = text.split("::", 1)
        language = language.strip()
    key = text.strip().lower()
    key = HEADER_ALIASES.get(key, key)
    return key, language


def select_type(type_text: str) -> tuple[str, str, bool] | None:
    """('select_one'|'select_multiple'|other, list name, or_other) of a select type."""
    words = type_text.split()
    for alias in sorted(aliases.select, key=len, reverse=True):
        parts = alias.split()
        if [w.lower() for w in words[: len(parts)]] == parts and len(words) > len(parts):
            target = aliases.select[alias]
            kind = {"select one": "select_one", "select all that apply": "select_multiple"}.get(
                target, target
            )
            if "from_file" in alias or "from file" in alias or "external" in alias:
                kind = "from_file"
            rest = words[len(parts) :]
            or_other = len(rest) > 1 and rest[-1].lower() == "or_other"
            return kind, rest[0], or_other
    return None


def control_type(type_text: str) -> tuple[str, str] | None:
    """('begin'|'end', 'group'|'repeat') of a control row, any spelling."""
    match = re.fullmatch(r"(begin|end)[ _](.+)", type_text.strip().lower())
    if match is None:
        return None
    kind = aliases.control.get(match.group(2).replace("_", " "))
    if kind is None:
        return None
    return match.group(1), "repeat" if kind in ("repeat", "loop") else "group"


def language_code(name: str) -> str | None:
    """'English (en)' -> 'en', 'French' -> 'fr', 'pt-BR' -> 'pt_BR'; None if unknown."""
    match = re.search(r"\(([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}))?\)\s*$", name)
    candidate = name.strip()
    if match is None:
        match = re.fullmatch(r"([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}))?", candidate)
    if match is not None:
        code = match.group(1).lower()
        return f"{code}_{match.group(2).upper()}" if match.group(2) else code
    from babel import Locale

    wanted = candidate.lower()
    for code, english in Locale("en").languages.items():
        if english.lower() == wanted and re.fullmatch(r"[a-z]{2,3}", code):
            return code
    return None
