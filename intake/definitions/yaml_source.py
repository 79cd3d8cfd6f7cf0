"""Read a definition's YAML safely and remember where every value was written.

Errors about a definition must name file, line and column, so the loader keeps
a map from each value's path (the keys and indexes that reach it) to its place
in the text. Anchors and aliases are refused: they add nothing a form author
needs and make "billion laughs" documents possible.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

MAX_DEFINITION_BYTES = 256 * 1024

Path = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a definition, at a place in its file."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class DefinitionProblems(Exception):
    """A definition was refused; every problem found is listed."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Source:
    """Parsed YAML with the position of every value, for precise messages."""

    file: str
    data: Any
    positions: Mapping[Path, tuple[int, int]]

    def problem(self, path: Iterable[str | int], message: str) -> Problem:
        """A problem placed at the deepest known position along `path`."""
        line, column = self.position(path)
        return Problem(self.file, line, column, message)

    def position(self, path: Iterable[str | int]) -> tuple[int, int]:
        """Line and column (1-based) of the value at `path`, or its nearest parent."""
        best: Path = ()
        current: Path = ()
        for part in path:
            candidate = (*current, part)
            if candidate in self.positions:
                current = candidate
                best = candidate
            # Parts that do not exist in the text (a union tag added by a
            # validator, say) are skipped so the rest of the path still counts.
        return self.positions.get(best, (1, 1))


def load_yaml(text: str, *, file: str) -> Source:
    """Parse YAML text with a safe loader; raise DefinitionProblems if it is not usable."""
    if len(text.encode("utf-8")) > MAX_DEFINITION_BYTES:
        raise DefinitionProblems(
            [Problem(file, 1, 1, f"the file is larger than {MAX_DEFINITION_BYTES // 1024} KB")]
        )
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise DefinitionProblems([Problem(file, 1, 1, "the file is empty")])
        walker = _Walker(loader, file)
        data = walker.value(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"YAML does not parse: {exc.problem or exc.context}"
        raise DefinitionProblems([Problem(file, line, column, message)]) from None
    except yaml.YAMLError as exc:
        raise DefinitionProblems([Problem(file, 1, 1, f"YAML does not parse: {exc}")]) from None
    finally:
        loader.dispose()
    if walker.problems:
        raise DefinitionProblems(walker.problems)
    return Source(file=file, data=data, positions=walker.positions)


class _Walker:
    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.positions: dict[Path, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self.seen: set[int] = set()

    def _at(self, node: yaml.Node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def value(self, node: yaml.Node, path: Path) -> Any:
        if id(node) in self.seen:
            line, column = self._at(node)
            self.problems.append(
                Problem(self.file, line, column, "anchors and aliases are not allowed")
            )
            return None
        self.seen.add(id(node))
        self.positions.setdefault(path, self._at(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                line, column = self._at(key_node)
                self.problems.append(Problem(self.file, line, column, "a key must be plain text"))
                continue
            key = self.loader.construct_object(key_node)
            if key_node.tag == "tag:yaml.org,2002:merge":
                line, column = self._at(key_node)
                self.problems.append(Problem(self.file, line, column, "merge keys are not allowed"))
                continue
            if key in result:
                line, column = self._at(key_node)
                self.problems.append(
                    Problem(self.file, line, column, f"the key '{key}' is written twice")
                )
                continue
            child = (*path, key)
            # Collections are reported at their key's line; a scalar at the value itself.
            self.positions[child] = self._at(
                value_node if isinstance(value_node, yaml.ScalarNode) else key_node
            )
            result[key] = self.value(value_node, child)
        return result


def pydantic_problems(source: Source, error: Any) -> list[Problem]:
    """Turn a pydantic ValidationError into placed problems."""
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item.get("loc", ()))
        where = ".".join(str(p) for p in loc if not isinstance(p, int)) or "definition"
        problems.append(source.problem(loc, f"{where}: {item.get('msg', 'invalid')}"))
    return problems
