"""Small forms written inline, so each test shows the definition it relies on."""

from __future__ import annotations

import textwrap

from intake.forms import FormDefinition, load_form

HEADER = """\
id: sample
version: 1
languages: [en, lt]
title: {en: Sample, lt: Pavyzdys}
"""


def page(fields: str, *, name: str = "main", relevant: str | None = None) -> str:
    """One page holding `fields` (YAML list items, written without indentation)."""
    lines = [f"  - name: {name}", "    title: {en: Page, lt: Puslapis}"]
    if relevant:
        lines.append(f"    relevant: {relevant!r}")
    lines.append("    fields:")
    lines.append(textwrap.indent(textwrap.dedent(fields).strip("\n"), "      "))
    return "\n".join(lines) + "\n"


def form_text(*pages: str, extra: str = "") -> str:
    return HEADER + extra + "pages:\n" + "".join(pages)


def make_form(*pages: str, extra: str = "") -> FormDefinition:
    return load_form(form_text(*pages, extra=extra), file="sample.yaml")
