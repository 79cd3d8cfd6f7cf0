"""Commands for administrators: check form definitions, print the JSON Schema.

The `intake` command wires these in; they print and return, and never raise
for a broken definition.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from intake.forms.loader import load_form
from intake.forms.schema import FormSchema
from intake.yaml_source import (
    DefinitionProblems,
    Problem,
    definition_paths,
    problem_lines,
)

FORMS_DIR = Path(__file__).resolve().parent.parent.parent / "forms"


def default_form_paths() -> list[str]:
    """Every form definition shipped in the top-level forms/ folder."""
    return sorted(str(p) for p in FORMS_DIR.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def check_paths(paths: list[str]) -> list[Problem]:
    """Every problem of every file in `paths`, a directory meaning its YAML files."""
    problems: list[Problem] = []
    seen_ids: dict[str, str] = {}
    for path in definition_paths(paths):
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(Problem(path, 1, 1, f"cannot read the file: {error}"))
            continue
        try:
            form = load_form(text, file=path)
        except DefinitionProblems as refused:
            problems.extend(refused.problems)
            continue
        if form.id in seen_ids:
            problems.append(
                Problem(path, 1, 1, f"the form id '{form.id}' is also used by {seen_ids[form.id]}")
            )
        seen_ids.setdefault(form.id, path)
    return problems


def check_command(paths: list[str], *, out: TextIO | None = None) -> int:
    """Print each problem as file:line:column: message; 0 when every form is sound."""
    out = out or sys.stdout
    chosen = definition_paths(paths or default_form_paths())
    if not chosen:
        print("no form definitions to check", file=out)
        return 1
    problems = check_paths(chosen)
    for line in problem_lines(problems):
        print(line, file=out)
    if not problems:
        print(f"{len(chosen)} form definition(s) checked, no problems", file=out)
    return 1 if problems else 0


def schema_command() -> str:
    """A JSON Schema of the form definition language, for editors' autocompletion."""
    schema = FormSchema.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "intake form definition"
    return json.dumps(schema, indent=2, ensure_ascii=False)


def import_xlsform_command(
    path: str, *, form_id: str | None, output: str | None, out: TextIO | None = None
) -> int:
    """Translate an XLSForm into a form file; print the report; 0 when the form is sound."""
    from intake.forms.xlsform import import_xlsform
    from intake.forms.xlsform_workbook import MAX_FILE_BYTES

    out = out or sys.stdout
    source = Path(path)
    try:
        if source.stat().st_size > MAX_FILE_BYTES:
            print(f"{path}: the file is larger than {MAX_FILE_BYTES // 2**20} MB", file=out)
            return 1
        data = source.read_bytes()
    except OSError as error:
        print(f"{path}: cannot read the file: {error.strerror}", file=out)
        return 1
    result = import_xlsform(data, form_id=form_id, file=source.name)
    print(result.report(), file=out)
    if not result.ok:
        print("nothing written: resolve the refusals and problems above", file=out)
        return 1
    target = Path(output or FORMS_DIR / f"{result.form_id}.yaml")
    if target.exists():
        print(f"{target} exists; choose another path with -o", file=out)
        return 1
    target.write_text(result.yaml_text, encoding="utf-8")
    print(f"written: {target}", file=out)
    return 0
