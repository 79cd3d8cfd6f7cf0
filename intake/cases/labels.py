"""Names of tracks and stages in the reader's language (the rule itself: intake.cases.rules)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from intake.cases.rules import function_label as function_label
from intake.cases.rules import label_in as label_in
from intake.definitions import service as definitions
from intake.workflow.compiled import Workflow


def workflow_of_version(db: Session, version_id: str | None) -> Workflow | None:
    """The compiled workflow of a version id (compiled once per version, then cached)."""
    version = definitions.get_version(db=db, version_id=version_id) if version_id else None
    return definitions.compiled_workflow(db=db, version=version) if version else None


def state_label(workflow: Workflow | None, state: str) -> str:
    """A stage's name in the reader's language (its key if the workflow does not know it)."""
    if workflow is None or state not in workflow.states:
        return state
    return label_in(workflow.states[state].label, workflow.languages)


def track_title(workflow: Workflow | None) -> str:
    """A track's title in the reader's language."""
    return label_in(workflow.title, workflow.languages) if workflow else ""
