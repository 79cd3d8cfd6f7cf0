"""Turn source text into AST nodes: a hand-written tokenizer and a Pratt parser.

Only the grammar below exists; anything else is an ExpressionError with the
column where reading stopped, so no text ever reaches Python's own compiler.

    expr     := or
    or       := and ("or" and)*
    and      := not ("and" not)*
    not      := "not" not | compare
    compare  := sum (("=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "in") sum)?
    sum      := product (("+" | "-") product)*
    product  := unary (("*" | "/") unary)*
    unary    := "-" unary | primary
    primary  := number | string | true | false | null | "." | name
              | function "(" [expr ("," expr)*] ")" | "(" expr ")"
"""

from __future__ import annotations

from dataclasses import dataclass

from intake.expressions.core import ExpressionError
from intake.expressions.nodes import Binary, Call, Current, Literal, Node, Reference, Unary

MAX_SOURCE_LENGTH = 1000
MAX_DEPTH = 32
# Longer literals would be exact in Python but rounded in the browser.
MAX_NUMBER_DIGITS = 15

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
# name -> (fewest arguments, most arguments or None for "any number")
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "today": (0, 0),
    "age": (1, 1),
    "count": (1, 1),
    "coalesce": (1, None),
    "len": (1, 1),
    "if": (3, 3),
    "selected": (2, 2),
    "contains": (2, 2),
    "date": (1, 1),
}
COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">=", "in"})
TWO_CHAR_OPERATORS = ("==", "!=", "<=", ">=")
ONE_CHAR_OPERATORS = "=<>+-*/(),"


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, name, self, op, keyword, end
    text: str
    column: int


def _is_name_start(char: str) -> bool:
    return char.isascii() and (char.isalpha() or char == "_")


def _is_name_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


def tokenize(source: str) -> list[Token]:
    """Split `source` into tokens, refusing any character the grammar does not use."""
    tokens: list[Token] = []
    i = 0
    while i < len(source):
        char = source[i]
        column = i + 1
        if char in " \t\r\n":
            i += 1
        elif char.isascii() and char.isdigit():
            i = _number(source, i, tokens)
        elif char in "'\"":
            end = source.find(char, i + 1)
            if end < 0:
                raise ExpressionError("this text is not closed with a quote", column=column)
            tokens.append(Token("string", source[i + 1 : end], column))
            i = end + 1
        elif _is_name_start(char):
            i = _name(source, i, tokens)
        elif char == ".":
            if i + 1 < len(source) and (_is_name_char(source[i + 1]) or source[i + 1] == "."):
                raise ExpressionError(
                    "'.' stands alone for this field; a name cannot start with '.'",
                    column=column,
                )
            tokens.append(Token("self", ".", column))
            i += 1
        elif source.startswith(TWO_CHAR_OPERATORS, i):
            text = source[i : i + 2]
            tokens.append(Token("op", "=" if text == "==" else text, column))
            i += 2
        elif char in ONE_CHAR_OPERATORS:
            tokens.append(Token("op", char, column))
            i += 1
        else:
            raise ExpressionError(f"the character {char!r} is not allowed here", column=column)
    tokens.append(Token("end", "", len(source) + 1))
    return tokens


def _number(source: str, i: int, tokens: list[Token]) -> int:
    start = i
    while i < len(source) and source[i].isascii() and source[i].isdigit():
        i += 1
    if i + 1 < len(source) and source[i] == "." and source[i + 1].isdigit():
        i += 1
        while i < len(source) and source[i].isascii() and source[i].isdigit():
            i += 1
    text = source[start:i]
    if sum(c.isdigit() for c in text) > MAX_NUMBER_DIGITS:
        raise ExpressionError("this number has too many digits", column=start + 1)
    if i < len(source) and (_is_name_char(source[i]) or source[i] == "."):
        raise ExpressionError("a number must not run into letters or dots", column=start + 1)
    tokens.append(Token("number", text, start + 1))
    return i


def _name(source: str, i: int, tokens: list[Token]) -> int:
    start = i
    while True:
        while i < len(source) and _is_name_char(source[i]):
            i += 1
        # A dot joins two identifiers into one dotted name (form_id.field).
        if i + 1 < len(source) and source[i] == "." and _is_name_start(source[i + 1]):
            i += 1
            continue
        break
    text = source[start:i]
    if i < len(source) and source[i] == ".":
        raise ExpressionError("a name must not end with '.'", column=i + 1)
    tokens.append(Token("keyword" if text in KEYWORDS else "name", text, start + 1))
    return i


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.position = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def at(self, kind: str, text: str | None = None) -> bool:
        token = self.current
        return token.kind == kind and (text is None or token.text == text)

    def expect(self, kind: str, text: str, what: str) -> Token:
        if not self.at(kind, text):
            raise ExpressionError(f"expected {what} {self._found()}", column=self.current.column)
        return self.advance()

    def _found(self) -> str:
        token = self.current
        return "but the expression ends" if token.kind == "end" else f"but found '{token.text}'"

    def nested(self, column: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(
                f"the expression is nested more than {MAX_DEPTH} levels deep", column=column
            )

    def parse(self) -> Node:
        node = self.or_expr()
        if not self.at("end"):
            raise ExpressionError(
                f"unexpected '{self.current.text}' after a complete expression",
                column=self.current.column,
            )
        return node

    def binary_chain(self, ops: frozenset[str], kind: str, operand: str) -> Node:
        parse_operand = getattr(self, operand)
        node: Node = parse_operand()
        levels = 0
        while self.current.kind == kind and self.current.text in ops:
            token = self.advance()
            # Each link of a chain (a + b + c) is one level deeper in the tree.
            self.nested(token.column)
            levels += 1
            node = Binary(token.text, node, parse_operand(), token.column)
        self.depth -= levels
        return node

    def or_expr(self) -> Node:
        return self.binary_chain(frozenset({"or"}), "keyword", "and_expr")

    def and_expr(self) -> Node:
        return self.binary_chain(frozenset({"and"}), "keyword", "not_expr")

    def not_expr(self) -> Node:
        if self.at("keyword", "not"):
            token = self.advance()
            self.nested(token.column)
            node = Unary("not", self.not_expr(), token.column)
            self.depth -= 1
            return node
        return self.compare()

    def compare(self) -> Node:
        left = self.sum()
        token = self.current
        if token.kind in ("op", "keyword") and token.text in COMPARISONS:
            self.advance()
            self.nested(token.column)
            node = Binary(token.text, left, self.sum(), token.column)
            self.depth -= 1
            after = self.current
            if after.kind in ("op", "keyword") and after.text in COMPARISONS:
                raise ExpressionError(
                    "comparisons cannot be chained; join them with 'and'", column=after.column
                )
            return node
        return left

    def sum(self) -> Node:
        return self.binary_chain(frozenset({"+", "-"}), "op", "product")

    def product(self) -> Node:
        return self.binary_chain(frozenset({"*", "/"}), "op", "unary")

    def unary(self) -> Node:
        if self.at("op", "-"):
            token = self.advance()
            self.nested(token.column)
            node = Unary("-", self.unary(), token.column)
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        token = self.current
        if token.kind == "number":
            self.advance()
            is_decimal = "." in token.text
            return Literal(float(token.text) if is_decimal else int(token.text), token.column)
        if token.kind == "string":
            self.advance()
            return Literal(token.text, token.column)
        if token.kind == "keyword" and token.text in ("true", "false", "null"):
            self.advance()
            value = {"true": True, "false": False, "null": None}[token.text]
            return Literal(value, token.column)
        if token.kind == "self":
            self.advance()
            return Current(token.column)
        if token.kind == "name":
            self.advance()
            if self.at("op", "("):
                return self.call(token)
            return Reference(token.text, token.column)
        if self.at("op", "("):
            self.advance()
            self.nested(token.column)
            node = self.or_expr()
            self.depth -= 1
            self.expect("op", ")", "')'")
            return node
        raise ExpressionError(f"expected a value {self._found()}", column=token.column)

    def call(self, name: Token) -> Node:
        if name.text not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(
                f"unknown function '{name.text}' (known: {known})", column=name.column
            )
        self.advance()  # the "("
        self.nested(name.column)
        args: list[Node] = []
        if not self.at("op", ")"):
            args.append(self.or_expr())
            while self.at("op", ","):
                self.advance()
                args.append(self.or_expr())
        self.expect("op", ")", "',' or ')'")
        self.depth -= 1
        fewest, most = FUNCTIONS[name.text]
        if len(args) < fewest or (most is not None and len(args) > most):
            wanted = str(fewest) if fewest == most else f"at least {fewest}"
            raise ExpressionError(
                f"{name.text}() takes {wanted} argument(s), not {len(args)}", column=name.column
            )
        return Call(name.text, tuple(args), name.column)


def parse(source: str) -> Node:
    """The AST of `source`, or ExpressionError at the first place it stops making sense."""
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(
            f"the expression is longer than {MAX_SOURCE_LENGTH} characters",
            column=MAX_SOURCE_LENGTH + 1,
        )
    if not source.strip():
        raise ExpressionError("the expression is empty", column=1)
    return _Parser(tokenize(source)).parse()
