"""Reading the shipped track files (top-level workflows/) as one checked set."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from intake.workflow.compiled import Workflow
from intake.workflow.loader import FormFields, check_track_set, load_workflow
from intake.workflow.track_rules import age_set_problems
from intake.yaml_source import DefinitionProblems, Problem

_SOURCE_CHECKOUT = Path(__file__).resolve().parents[2]


def workflows_directory() -> Path:
    """workflows/ of the directory the command runs in, else of the source checkout."""
    here = Path.cwd() / "workflows"
    return here if here.is_dir() else _SOURCE_CHECKOUT / "workflows"


def default_paths() -> list[str]:
    """Every track file shipped in workflows/, named as a person would type it."""
    directory = workflows_directory()
    return [_display(path) for path in sorted(directory.glob("*.yaml"))]


def load_track_files(
    paths: Sequence[str],
    *,
    forms: FormFields,
    choices: Mapping[str, Collection[str]] | None = None,
) -> list[Workflow]:
    """Load every file and check them as a set; raise DefinitionProblems listing all problems."""
    workflows: list[Workflow] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(
                Problem(path, 1, 1, f"cannot read the file: {error.__class__.__name__}")
            )
            continue
        try:
            workflows.append(load_workflow(text, file=path, forms=forms, choices=choices))
        except DefinitionProblems as refused:
            problems += refused.problems
    if not problems:
        # Across-file rules only mean something when every file could be read.
        problems += check_track_set(workflows) + age_set_problems(workflows)
    if problems:
        raise DefinitionProblems(problems)
    return workflows


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
