"""Give every node a type and refuse expressions that mix types.

Checking happens once, when a definition is loaded, so that an administrator
learns about `'a' + 1` or `birth_date < 5` before any person fills the form.
ANY (a variable of unknown type, or the literal null) fits everywhere; the
evaluator then decides at run time and yields null where types do not fit.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import replace

from intake.expressions.core import ExpressionError, ValueType
from intake.expressions.evaluator import parse_iso_date
from intake.expressions.nodes import Binary, Call, Current, Literal, Node, Reference, Unary
from intake.i18n import gettext as _

T = ValueType
ANY = ValueType.ANY


def _type_names() -> dict[ValueType, str]:
    # Built at each call: the names follow the reader's language.
    return {
        T.TEXT: _("text"),
        T.NUMBER: _("a number"),
        T.BOOLEAN: _("true/false"),
        T.DATE: _("a date"),
        T.LIST: _("a list of choices"),
        T.REPEAT: _("a repeat group"),
        T.ANY: _("any value"),
    }


def describe(vtype: ValueType) -> str:
    """A type as a form author would say it."""
    return _type_names()[vtype]


def fits(actual: ValueType, wanted: ValueType) -> bool:
    """Whether a value of type `actual` can stand where `wanted` is needed."""
    return actual == wanted or ANY in (actual, wanted)


def unify(types: list[ValueType], column: int, what: str) -> ValueType:
    """The one type all `types` share (ANY aside), or an ExpressionError."""
    known = {t for t in types if t != ANY}
    if len(known) > 1:
        separator = " " + _("and") + " "
        listed = separator.join(sorted(describe(t) for t in known))
        raise ExpressionError(_("%(what)s mixes %(types)s", what=what, types=listed), column=column)
    return known.pop() if known else ANY


class _Checker:
    def __init__(self, variables: Mapping[str, ValueType]) -> None:
        self.variables = variables

    def require(self, node: Node, wanted: ValueType, what: str) -> None:
        if not fits(node.vtype, wanted):
            raise ExpressionError(
                _(
                    "%(what)s must be %(wanted)s, not %(actual)s",
                    what=what,
                    wanted=describe(wanted),
                    actual=describe(node.vtype),
                ),
                column=node.column,
            )

    def check(self, node: Node) -> Node:
        if isinstance(node, Literal):
            return replace(node, vtype=_literal_type(node.value))
        if isinstance(node, Reference):
            return replace(node, vtype=self.reference(node))
        if isinstance(node, Current):
            if "." not in self.variables:
                raise ExpressionError(
                    _("'.' (this field's own answer) has no meaning here"), column=node.column
                )
            return replace(node, vtype=self.variables["."])
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        return self.call(node)

    def reference(self, node: Reference) -> ValueType:
        if node.name in self.variables and node.name != ".":
            return self.variables[node.name]
        message = _("unknown field '%(name)s'", name=node.name)
        close = difflib.get_close_matches(node.name, [v for v in self.variables if v != "."], 1)
        if close:
            message = _(
                "unknown field '%(name)s' (did you mean '%(close)s'?)",
                name=node.name,
                close=close[0],
            )
        raise ExpressionError(message, column=node.column)

    def unary(self, node: Unary) -> Node:
        operand = self.check(node.operand)
        if node.op == "not":
            self.require(operand, T.BOOLEAN, _("the value after '%(op)s'", op="not"))
            return replace(node, operand=operand, vtype=T.BOOLEAN)
        self.require(operand, T.NUMBER, _("the value after '%(op)s'", op="-"))
        return replace(node, operand=operand, vtype=T.NUMBER)

    def binary(self, node: Binary) -> Node:
        left, right = self.check(node.left), self.check(node.right)
        result = self.binary_type(node.op, left, right, node.column)
        return replace(node, left=left, right=right, vtype=result)

    def binary_type(self, op: str, left: Node, right: Node, column: int) -> ValueType:
        lt, rt = left.vtype, right.vtype
        if op in ("and", "or"):
            self.require(left, T.BOOLEAN, _("each side of '%(op)s'", op=op))
            self.require(right, T.BOOLEAN, _("each side of '%(op)s'", op=op))
            return T.BOOLEAN
        if op in ("=", "!="):
            for side in (lt, rt):
                if side in (T.LIST, T.REPEAT):
                    raise ExpressionError(
                        _(
                            "%(type)s cannot be compared with '%(op)s'; "
                            "use 'in', selected() or count()",
                            type=describe(side),
                            op=op,
                        ),
                        column=column,
                    )
            unify([lt, rt], column, _("the comparison '%(op)s'", op=op))
            return T.BOOLEAN
        if op in ("<", "<=", ">", ">="):
            shared = unify([lt, rt], column, _("the comparison '%(op)s'", op=op))
            if shared not in (T.NUMBER, T.DATE, ANY):
                raise ExpressionError(
                    _(
                        "'%(op)s' compares numbers or dates, not %(type)s",
                        op=op,
                        type=describe(shared),
                    ),
                    column=column,
                )
            return T.BOOLEAN
        if op == "in":
            self.require(left, T.TEXT, _("the choice before '%(op)s'", op="in"))
            self.require(right, T.LIST, _("the value after '%(op)s'", op="in"))
            return T.BOOLEAN
        return self.arithmetic_type(op, lt, rt, column)

    def arithmetic_type(self, op: str, lt: ValueType, rt: ValueType, column: int) -> ValueType:
        allowed = {T.NUMBER, ANY} | ({T.DATE} if op in ("+", "-") else set())
        for side in (lt, rt):
            if side not in allowed:
                raise ExpressionError(
                    _("'%(op)s' cannot be used with %(type)s", op=op, type=describe(side)),
                    column=column,
                )
        if T.DATE not in (lt, rt):
            return T.NUMBER if lt == rt == T.NUMBER else ANY
        if op == "+":
            if lt == rt == T.DATE:
                raise ExpressionError(_("two dates cannot be added"), column=column)
            return T.DATE
        if rt == T.DATE:  # date - date, or a number minus a date
            if lt == T.NUMBER:
                raise ExpressionError(_("a date cannot be taken from a number"), column=column)
            return T.NUMBER
        return T.DATE if rt == T.NUMBER else ANY

    def call(self, node: Call) -> Node:
        args = tuple(self.check(arg) for arg in node.args)
        name = node.function
        result = self.call_type(name, args, node.column)
        return replace(node, args=args, vtype=result)

    def call_type(self, name: str, args: tuple[Node, ...], column: int) -> ValueType:
        signatures: dict[str, tuple[tuple[ValueType, ...], ValueType]] = {
            "today": ((), T.DATE),
            "age": ((T.DATE,), T.NUMBER),
            "len": ((T.TEXT,), T.NUMBER),
            "selected": ((T.LIST, T.TEXT), T.BOOLEAN),
            "contains": ((T.TEXT, T.TEXT), T.BOOLEAN),
            "date": ((T.TEXT,), T.DATE),
        }
        if name in signatures:
            wanted, result = signatures[name]
            for index, (arg, want) in enumerate(zip(args, wanted, strict=True), start=1):
                if name == "date" and arg.vtype == T.DATE:
                    continue  # date() of a date is that date
                self.require(
                    arg, want, _("argument %(index)s of %(name)s()", index=index, name=name)
                )
            if name == "date":
                _check_date_literal(args[0])
            return result
        if name == "count":
            if args[0].vtype not in (T.LIST, T.REPEAT, ANY):
                raise ExpressionError(
                    _(
                        "count() counts a repeat group or a list of choices, not %(type)s",
                        type=describe(args[0].vtype),
                    ),
                    column=args[0].column,
                )
            return T.NUMBER
        if name == "coalesce":
            return unify([arg.vtype for arg in args], column, "coalesce()")
        # if(condition, then, else)
        self.require(args[0], T.BOOLEAN, _("the condition of if()"))
        return unify([args[1].vtype, args[2].vtype], column, "if()")


def _literal_type(value: object) -> ValueType:
    if value is None:
        return ANY
    if isinstance(value, bool):
        return T.BOOLEAN
    if isinstance(value, int | float):
        return T.NUMBER
    return T.TEXT


def _check_date_literal(arg: Node) -> None:
    if isinstance(arg, Literal) and isinstance(arg.value, str) and not parse_iso_date(arg.value):
        raise ExpressionError(
            _("'%(value)s' is not a date written as YYYY-MM-DD", value=arg.value),
            column=arg.column,
        )


def check(node: Node, variables: Mapping[str, ValueType]) -> Node:
    """`node` with a type on every node, or ExpressionError at the first mismatch."""
    return _Checker(variables).check(node)
