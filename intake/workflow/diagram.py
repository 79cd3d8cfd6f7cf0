"""Diagrams of a track, drawn by transitions' own diagram support: mermaid text and SVG.

A GraphMachine is built here from the definition alone, only to draw; it never
runs a case (run-time machines are plain, see machine.py). The mermaid engine
needs no Graphviz. The SVG comes from Graphviz (`dot`) run as a subprocess with
a time limit, and only for tracks small enough to lay out quickly: a dense
track can keep `dot` busy for minutes. Whatever cannot be drawn in time falls
back to the mermaid text and a table. The SVG is cut down to a whitelist of
drawing elements and attributes, so no script, style or link can reach a page
from an administrator's labels.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import threading
import xml.etree.ElementTree as ET
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import graphviz
from markupsafe import Markup
from transitions import State as LibraryState
from transitions.extensions.diagrams import GraphMachine

from intake.workflow.checks import expand_sources
from intake.workflow.compiled import Workflow
from intake.workflow.schema import TrackDefinition, TransitionDefinition

log = logging.getLogger("intake.workflow")

# Beyond these, `dot` may take far longer than anyone waits; the table still shows everything.
MAX_DRAWN_STATES = 60
MAX_DRAWN_TRANSITIONS = 200
MAX_DOT_SOURCE_BYTES = 64 * 1024
DOT_TIMEOUT_SECONDS = 5.0

# Why a diagram is shown as text and a table instead of a drawing.
Fallback = Literal["missing", "too_large", "too_slow", "failed"]

SVG_NS = "http://www.w3.org/2000/svg"
# What Graphviz draws with; anything else (script, style, foreignObject, a, image) is dropped.
_ELEMENTS = frozenset({"svg", "g", "title", "polygon", "polyline", "path", "ellipse", "text"})
_ATTRIBUTES = frozenset(
    {
        "width",
        "height",
        "viewBox",
        "transform",
        "class",
        "fill",
        "stroke",
        "stroke-width",
        "stroke-dasharray",
        "points",
        "d",
        "cx",
        "cy",
        "rx",
        "ry",
        "x",
        "y",
        "text-anchor",
        "font-family",
        "font-size",
        "font-weight",
    }
)


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


@dataclass(frozen=True)
class StateRow:
    name: str
    label: str
    initial: bool
    final: bool


@dataclass(frozen=True)
class EdgeRow:
    label: str
    sources: tuple[str, ...]
    dest: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Diagram:
    """A track as an SVG, or (see `fallback`) as mermaid text; always also as rows."""

    svg: Markup | None
    mermaid: str
    states: tuple[StateRow, ...]
    transitions: tuple[EdgeRow, ...]
    fallback: Fallback | None = None


# --- mermaid ------------------------------------------------------------------------


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


# --- the drawing a page shows ----------------------------------------------------------


def label_in(labels: dict[str, str], language: str, definition: TrackDefinition, name: str) -> str:
    """A label in `language`, else the track's first language, else the bare name."""
    return labels.get(language) or labels.get(definition.languages[0]) or name


def draw(definition: TrackDefinition, *, language: str, timeout: float | None = None) -> Diagram:
    """The diagram of a track labelled in `language`: SVG when `dot` draws it in time."""
    states = tuple(
        StateRow(
            name=name,
            label=label_in(state.label, language, definition, name),
            initial=name == definition.initial,
            final=state.final,
        )
        for name, state in definition.states.items()
    )
    edges = tuple(
        EdgeRow(
            label=label_in(t.label, language, definition, t.trigger),
            sources=tuple(expand_sources(t, definition)),
            dest=t.dest,
            roles=tuple(t.roles),
        )
        for t in definition.transitions
    )
    svg, fallback = _svg(
        definition, states, edges, timeout=DOT_TIMEOUT_SECONDS if timeout is None else timeout
    )
    return Diagram(
        svg=Markup(svg) if svg is not None else None,  # noqa: S704 - whitelisted in clean_svg
        mermaid=_mermaid(definition, language),
        states=states,
        transitions=edges,
        fallback=fallback,
    )


def _svg(
    definition: TrackDefinition,
    states: tuple[StateRow, ...],
    edges: tuple[EdgeRow, ...],
    *,
    timeout: float,
) -> tuple[str | None, Fallback | None]:
    dot = shutil.which("dot")
    if dot is None:
        return None, "missing"
    if len(states) > MAX_DRAWN_STATES or len(edges) > MAX_DRAWN_TRANSITIONS:
        return None, "too_large"
    source = _dot_source(definition, states, edges)
    if len(source.encode("utf-8")) > MAX_DOT_SOURCE_BYTES:
        return None, "too_large"
    return _render(dot, source, timeout=timeout)


def _mermaid(definition: TrackDefinition, language: str) -> str:
    drawable = language if language in definition.languages else definition.languages[0]
    try:
        return mermaid_diagram(definition, language=drawable)
    except (ValueError, KeyError):
        # A draft that names unknown states still gets its table; its problems say why.
        return ""


def _dot_source(
    definition: TrackDefinition, states: tuple[StateRow, ...], edges: tuple[EdgeRow, ...]
) -> str:
    model = _Drawing()
    known = {row.name for row in states}
    initial = definition.initial if definition.initial in known else states[0].name
    machine = _DiagramMachine(
        model=model,
        states=[{"name": row.name, "label": row.label, "final": row.final} for row in states],
        transitions=[
            {
                "trigger": f"t{index}",
                "source": list(row.sources),
                "dest": row.dest,
                "label": row.label,
            }
            for index, row in enumerate(edges)
            if row.dest in known and set(row.sources) <= known
        ],
        initial=initial,
        auto_transitions=False,
        graph_engine="graphviz",
        title=" ",
    )
    drawing = machine.model_graphs[id(model)]
    drawing.reset_styling()  # a definition has no current state to highlight
    graph: graphviz.Digraph = drawing.get_graph()
    graph.graph_attr.update(rankdir="TB", label="")
    graph.node("start", label="", shape="point", width="0.2")
    graph.edge("start", initial)
    for row in states:
        if row.final:
            graph.node(row.name, peripheries="2")
    return str(graph.source)


# Drawings already made, by their dot source; failures are not kept, so a fixed
# server draws again.
_drawn: OrderedDict[str, str] = OrderedDict()
_drawn_lock = threading.Lock()
_DRAWN_SIZE = 64


def _render(dot: str, source: str, *, timeout: float) -> tuple[str | None, Fallback | None]:
    with _drawn_lock:
        if source in _drawn:
            _drawn.move_to_end(source)
            return _drawn[source], None
    raw, fallback = _run_dot(dot, source, timeout=timeout)
    if raw is None:
        return None, fallback
    try:
        svg = clean_svg(raw)
    except ET.ParseError:
        log.warning("graphviz drew something that is not SVG")
        return None, "failed"
    with _drawn_lock:
        _drawn[source] = svg
        while len(_drawn) > _DRAWN_SIZE:
            _drawn.popitem(last=False)
    return svg, None


def _run_dot(dot: str, source: str, *, timeout: float) -> tuple[str | None, Fallback | None]:
    """`dot -Tsvg` on `source`, stopped (with anything it started) after `timeout` seconds."""
    try:
        process = subprocess.Popen(  # noqa: S603 - a fixed argument list, no shell
            [dot, "-Tsvg"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so a timeout stops all of it
        )
    except OSError as exc:
        log.warning("graphviz could not start: %s", type(exc).__name__)
        return None, "failed"
    try:
        out, _ = process.communicate(source.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(process)
        log.warning("graphviz took longer than %s s to draw a diagram", timeout)
        return None, "too_slow"
    if process.returncode != 0:
        log.warning("graphviz could not draw a diagram (exit %s)", process.returncode)
        return None, "failed"
    return out.decode("utf-8", errors="replace"), None


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        process.kill()
    process.communicate()


def clean_svg(raw: str) -> str:
    """Only whitelisted drawing elements and attributes of an SVG, as markup."""
    ET.register_namespace("", SVG_NS)
    root = ET.fromstring(raw)  # noqa: S314 - our own dot output; expat expands no external entity
    _prune(root)
    root.set("role", "img")
    return ET.tostring(root, encoding="unicode")


def _prune(element: ET.Element) -> None:
    for name in list(element.attrib):
        if name not in _ATTRIBUTES:
            del element.attrib[name]
    for child in list(element):
        if _local(child.tag) not in _ELEMENTS:
            element.remove(child)
        else:
            _prune(child)


def _local(tag: object) -> str:
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    namespace, _, name = tag.rpartition("}")
    return name if namespace in ("", "{" + SVG_NS) else ""
