"""State diagrams of a track for the admin pages, drawn by transitions' own diagram support.

A GraphMachine is built from the definition only while drawing; cases never run
on it. Graphviz (`dot`) renders SVG on the server; the SVG is cut down to a
whitelist of drawing elements and attributes, so no script, style or link can
reach the page from an administrator's labels. Without `dot`, the page falls
back to transitions' mermaid text and a plain table.
"""

from __future__ import annotations

import logging
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache

import graphviz
from markupsafe import Markup
from transitions import State as LibraryState
from transitions.extensions.diagrams import GraphMachine

from intake.workflow.checks import expand_sources
from intake.workflow.diagram import mermaid_diagram
from intake.workflow.schema import TrackDefinition

log = logging.getLogger("intake.admin")

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
    """What the admin page shows: an SVG, or mermaid text when Graphviz is missing."""

    svg: Markup | None
    mermaid: str
    states: tuple[StateRow, ...]
    transitions: tuple[EdgeRow, ...]

    @property
    def graphviz_missing(self) -> bool:
        return self.svg is None


def label_in(labels: dict[str, str], language: str, definition: TrackDefinition, name: str) -> str:
    """A label in `language`, else the track's first language, else the bare name."""
    return labels.get(language) or labels.get(definition.languages[0]) or name


def draw(definition: TrackDefinition, *, language: str) -> Diagram:
    """The diagram of a track, labelled in `language` (SVG when `dot` is installed)."""
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
    svg = None
    if shutil.which("dot") is not None:
        source = _dot_source(definition, states, edges)
        svg = _render(source)
    return Diagram(
        svg=Markup(svg) if svg is not None else None,  # noqa: S704 - whitelisted in _clean
        mermaid=_mermaid(definition, language),
        states=states,
        transitions=edges,
    )


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


@lru_cache(maxsize=64)
def _render(source: str) -> str | None:
    """Run `dot` once per distinct drawing; None when it cannot run."""
    try:
        raw = graphviz.Source(source).pipe(format="svg", encoding="utf-8")
    except (graphviz.ExecutableNotFound, graphviz.CalledProcessError, OSError) as exc:
        log.warning("graphviz could not draw a diagram: %s", type(exc).__name__)
        return None
    return clean_svg(raw)


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
