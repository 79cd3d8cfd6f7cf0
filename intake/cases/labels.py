"""Names of tracks, stages and team functions in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from intake.definitions import service as definitions
from intake.i18n import get_locale
from intake.i18n import gettext as _
from intake.workflow.compiled import Workflow


def function_label(function: str) -> str:
    """A team function's name in the reader's language."""
    labels = {
        "social_worker": _("Social worker"),
        "psychologist": _("Psychologist"),
        "health_specialist": _("Health specialist"),
        "pedagogue": _("Pedagogue"),
        "law_enforcement_liaison": _("Law-enforcement liaison"),
    }
    return labels.get(function, function)


def label_in(labels: Mapping[str, str] | None, languages: Sequence[str]) -> str:
    """A definition's per-language text for the reader, else in its first language."""
    if not labels:
        return ""
    return labels.get(get_locale()) or labels.get(languages[0], "") or next(iter(labels.values()))


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
