"""Shared pieces for the workflow tests: the forms the shipped tracks read, and loaders."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from intake.expressions import ValueType
from intake.workflow.compiled import Workflow
from intake.workflow.engine import CaseFacts
from intake.workflow.loader import load_workflow

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
TODAY = dt.date(2025, 3, 14)

# The form ids and fields the form engineer ships (see the brief), with their types.
FORMS: dict[str, dict[str, ValueType]] = {
    "consent": {"given": ValueType.BOOLEAN},
    "first_contact": {
        "gender": ValueType.TEXT,
        "age_years": ValueType.NUMBER,
        "birth_date": ValueType.DATE,
        "safety_risk": ValueType.TEXT,
    },
    "urgent_needs": {"needs": ValueType.LIST},
    "housing_placement": {"placed_on": ValueType.DATE},
    "psychological_assessment": {"summary": ValueType.TEXT},
    "reintegration_plan": {"goals": ValueType.TEXT},
    "safe_return_plan": {"country": ValueType.TEXT, "wants_to_return": ValueType.BOOLEAN},
    "guardian": {"kind": ValueType.TEXT},
    "best_interests": {"decision": ValueType.TEXT},
    "family_assessment": {"recommendation": ValueType.TEXT},
}


def shipped(track_id: str) -> Workflow:
    """A shipped track, loaded the way the application loads it."""
    path = WORKFLOWS / f"{track_id}.yaml"
    text = path.read_text(encoding="utf-8")
    return load_workflow(text, file=f"workflows/{path.name}", forms=FORMS)


def facts(
    state: str,
    *,
    forms: set[str] | frozenset[str] = frozenset(),
    team: set[str] | frozenset[str] = frozenset(),
    answers: dict[str, object] | None = None,
    consents: set[str] | frozenset[str] = frozenset(),
) -> CaseFacts:
    """Facts of a case, with nothing filled in (and nothing consented to) unless said."""
    return CaseFacts(
        state=state,
        completed_forms=frozenset(forms),
        team_functions=frozenset(team),
        answers=dict(answers or {}),
        today=TODAY,
        consents=frozenset(consents),
    )
