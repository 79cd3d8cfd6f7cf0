"""Find text compared with a select field that is not one of the field's choices.

`gender = 'femal'` type-checks (text against text) yet can never be true; in a
workflow condition it would block every case for good. Definitions refuse it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

from intake.expressions import Expression
from intake.expressions.nodes import Binary, Call, Literal, Node, Reference, Unary


@dataclass(frozen=True)
class UnknownChoice:
    """A literal that names no choice of the field it is compared with."""

    column: int
    field: str
    value: str

    @property
    def message(self) -> str:
        return f"'{self.value}' is not a choice of {self.field}"


def _walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Unary):
        yield from _walk(node.operand)
    elif isinstance(node, Binary):
        yield from _walk(node.left)
        yield from _walk(node.right)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from _walk(arg)


def _pairs(node: Node) -> Iterator[tuple[Reference, Literal]]:
    if isinstance(node, Binary) and node.op in ("=", "!=", "in"):
        sides = (node.left, node.right)
    elif isinstance(node, Call) and node.function == "selected" and len(node.args) == 2:
        sides = (node.args[0], node.args[1])
    else:
        return
    first, second = sides
    if isinstance(first, Reference) and isinstance(second, Literal):
        yield first, second
    elif isinstance(second, Reference) and isinstance(first, Literal):
        yield second, first


def unknown_choices(
    expression: Expression, choices: Mapping[str, Collection[str]]
) -> list[UnknownChoice]:
    """Every text literal compared with a select field that names none of its choices."""
    found = []
    for node in _walk(expression.ast):
        for reference, literal in _pairs(node):
            allowed = choices.get(reference.name)
            if allowed is None or not isinstance(literal.value, str):
                continue
            if literal.value not in allowed:
                found.append(UnknownChoice(literal.column, reference.name, literal.value))
    return found
