"""What the `intake` command runs for workflows (the command itself is wired elsewhere)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from intake.workflow.diagram import mermaid_diagram
from intake.workflow.files import default_paths, load_track_files
from intake.workflow.loader import FormFields, parse_track
from intake.yaml_source import DefinitionProblems, definition_paths, problem_lines


def check_command(
    paths: list[str],
    *,
    forms: FormFields,
    choices: Mapping[str, Collection[str]] | None = None,
) -> int:
    """Print every problem as file:line:column: message; return 1 if there was any."""
    chosen = definition_paths(paths or default_paths())
    if not chosen:
        print("no workflow files found")
        return 1
    try:
        workflows = load_track_files(chosen, forms=forms, choices=choices)
    except DefinitionProblems as refused:
        for line in problem_lines(refused.problems):
            print(line)
        return 1
    print(f"{len(workflows)} workflow definition(s) are valid")
    return 0


def diagram_command(
    workflow_id: str, *, language: str = "en", paths: list[str] | None = None
) -> str:
    """The mermaid diagram of the shipped track `workflow_id` (raise LookupError if none)."""
    for path in paths or default_paths():
        _, definition = parse_track(Path(path).read_text(encoding="utf-8"), file=path)
        if definition.id == workflow_id:
            return mermaid_diagram(definition, language=language)
    raise LookupError(f"no workflow with id '{workflow_id}'")
