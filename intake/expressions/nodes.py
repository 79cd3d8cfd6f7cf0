"""The AST: a closed set of frozen node kinds, nothing else can be evaluated.

Every node keeps the 1-based column it was written at (for messages) and the
type the checker gave it (ANY until checked), which the browser's evaluator
needs to tell a date from a text: in JSON both are strings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from intake.expressions.core import ValueType

LiteralValue = str | int | float | bool | None


@dataclass(frozen=True)
class Literal:
    value: LiteralValue
    column: int
    vtype: ValueType = ValueType.ANY


@dataclass(frozen=True)
class Reference:
    """A field read by name; dotted names (`first_contact.age_years`) are one name."""

    name: str
    column: int
    vtype: ValueType = ValueType.ANY


@dataclass(frozen=True)
class Current:
    """`.`: the value of the field the expression belongs to."""

    column: int
    vtype: ValueType = ValueType.ANY


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "not"
    operand: Node
    column: int
    vtype: ValueType = ValueType.ANY


@dataclass(frozen=True)
class Binary:
    op: str  # or and = != < <= > >= in + - * /
    left: Node
    right: Node
    column: int
    vtype: ValueType = ValueType.ANY


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]
    column: int
    vtype: ValueType = ValueType.ANY


Node = Literal | Reference | Current | Unary | Binary | Call


def node_to_json(node: Node) -> dict[str, Any]:
    """A plain-JSON form of a checked node, read by intake/static/js/expr.js."""
    if isinstance(node, Literal):
        value: Any = node.value.isoformat() if isinstance(node.value, dt.date) else node.value
        return {"kind": "literal", "value": value, "type": str(node.vtype)}
    if isinstance(node, Reference):
        return {"kind": "ref", "name": node.name, "type": str(node.vtype)}
    if isinstance(node, Current):
        return {"kind": "self", "type": str(node.vtype)}
    if isinstance(node, Unary):
        return {
            "kind": "unary",
            "op": node.op,
            "operand": node_to_json(node.operand),
            "type": str(node.vtype),
        }
    if isinstance(node, Binary):
        return {
            "kind": "binary",
            "op": node.op,
            "left": node_to_json(node.left),
            "right": node_to_json(node.right),
            "type": str(node.vtype),
        }
    return {
        "kind": "call",
        "fn": node.function,
        "args": [node_to_json(arg) for arg in node.args],
        "type": str(node.vtype),
    }


def references_of(node: Node) -> frozenset[str]:
    """Every field name the expression reads (not `.`)."""
    if isinstance(node, Reference):
        return frozenset({node.name})
    if isinstance(node, Unary):
        return references_of(node.operand)
    if isinstance(node, Binary):
        return references_of(node.left) | references_of(node.right)
    if isinstance(node, Call):
        found: frozenset[str] = frozenset()
        for arg in node.args:
            found |= references_of(arg)
        return found
    return frozenset()
