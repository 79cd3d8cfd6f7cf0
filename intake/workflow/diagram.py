"""Mermaid diagrams of a track, drawn by transitions' own diagram support.

A GraphMachine is built here from the definition alone, only to draw; it never
runs a case (run-time machines are plain, see machine.py). The mermaid engine
needs no graphviz.
"""

from __future__ import annotations

import json

from transitions import State as LibraryState
from transitions.extensions.diagrams import GraphMachine

from intake.workflow.checks import expand_sources
from intake.workflow.compiled import Workflow
from intake.workflow.schema import TrackDefinition, TransitionDefinition


class _LabelledState(LibraryState):
    """The library's State with the label its diagram code already looks for."""

    def __init__(self, *args: object, label: str | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if label:
            self.label = label


class _DiagramMachine(GraphMachine):
    state_cls = _LabelledState


class _Drawing:
    """The throwaway model the diagram machine insists on."""

    state: str


def mermaid_diagram(workflow: Workflow | TrackDefinition, *, language: str) -> str:
    """The track as a mermaid stateDiagram, labelled in `language`."""
    definition = workflow.definition if isinstance(workflow, Workflow) else workflow
    states = [
        {"name": name, "label": _text(state.label, language, name), "final": state.final}
        for name, state in definition.states.items()
    ]
    transitions = [
        {
            "trigger": t.trigger,
            "source": expand_sources(t, definition),
            "dest": t.dest,
            "label": _edge_label(t, language),
        }
        for t in definition.transitions
        if t.dest in definition.states
    ]
    # Mermaid reads the block between '---' lines as YAML front matter.
    title = "title: " + json.dumps(
        _text(definition.title, language, definition.id), ensure_ascii=False
    )
    model = _Drawing()
    machine = _DiagramMachine(
        model=model,
        states=states,
        transitions=transitions,
        initial=definition.initial,
        auto_transitions=False,
        graph_engine="mermaid",
        title=title,
    )
    graph = machine.model_graphs[id(model)]
    graph.reset_styling()  # a definition has no current state to highlight
    text: str = model.get_graph().source  # type: ignore[attr-defined]
    finals = [f"  {name} --> [*]" for name, state in definition.states.items() if state.final]
    return "\n".join([text, *finals]) + "\n"


def _text(labels: dict[str, str], language: str, fallback: str) -> str:
    # Quotes would end mermaid's quoted label early.
    return labels.get(language, fallback).replace('"', "'")


def _edge_label(transition: TransitionDefinition, language: str) -> str:
    label = _text(transition.label, language, transition.trigger).replace(":", " –")
    who = ", ".join(transition.roles) or "nobody"
    return f"{label} ({who})"
