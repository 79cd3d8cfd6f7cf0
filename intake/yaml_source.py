"""Read a definition's YAML safely and remember where every value was written.

Errors about a definition must name file, line and column, so the loader keeps
a map from each value's path (the keys and indexes that reach it) to its place
in the text. Anchors and aliases are refused: they add nothing a form author
needs and make "billion laughs" documents possible.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

import yaml

from intake.i18n import gettext as _
from intake.i18n import ngettext

MAX_DEFINITION_BYTES = 256 * 1024
# No definition needs more than a dozen levels; far deeper nesting only exhausts the stack.
MAX_NESTING = 32
# The tags plain YAML resolves to on its own; any other (`!secret`, `!!python/...`,
# `!!binary`, `!!set`) would be silently dropped or mean something we never run.
_STANDARD_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
)
# The first problems are what an author fixes; thousands only make a page nobody reads.
MAX_SHOWN_PROBLEMS = 200

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
    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_DEFINITION_BYTES:
        raise DefinitionProblems(
            [
                Problem(
                    file,
                    1,
                    1,
                    _("the file is larger than %(size)s KB", size=MAX_DEFINITION_BYTES // 1024),
                )
            ]
        )
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            raise DefinitionProblems([Problem(file, 1, 1, _("the file is empty"))])
        walker = _Walker(loader, file)
        data = walker.value(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = _("YAML does not parse: %(reason)s", reason=exc.problem or exc.context)
        raise DefinitionProblems([Problem(file, line, column, message)]) from None
    except yaml.reader.ReaderError as exc:
        raise DefinitionProblems([_unreadable(text, file, exc)]) from None
    except yaml.YAMLError as exc:
        raise DefinitionProblems(
            [Problem(file, 1, 1, _("YAML does not parse: %(reason)s", reason=exc))]
        ) from None
    except RecursionError:
        message = _("the text is nested too deeply")
        raise DefinitionProblems([Problem(file, 1, 1, message)]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if walker.problems:
        raise DefinitionProblems(walker.problems)
    return Source(file=file, data=data, positions=walker.positions)


def _unreadable(text: str, file: str, error: yaml.reader.ReaderError) -> Problem:
    """A character YAML refuses (a control character, NUL), placed where it is."""
    position = max(0, min(int(error.position), len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    code = error.character if isinstance(error.character, int) else ord(str(error.character)[:1])
    message = _(
        "the text holds the control character U+%(code)s, which YAML does not allow",
        code=f"{code:04X}",
    )
    return Problem(file, line, column, message)


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing nesting deeper than MAX_NESTING before the stack runs out."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                mark = self.peek_event().start_mark
                problem = _("nested more than %(levels)s levels deep", levels=MAX_NESTING)
                raise yaml.composer.ComposerError(None, None, problem, mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def first_problems(problems: Sequence[Problem]) -> tuple[list[Problem], int]:
    """The problems worth listing (the first MAX_SHOWN_PROBLEMS) and how many more there are."""
    shown = list(problems[:MAX_SHOWN_PROBLEMS])
    return shown, len(problems) - len(shown)


def problem_lines(problems: Sequence[Problem]) -> list[str]:
    """Problems as file:line:column: message lines, the first ones and then how many more."""
    shown, more = first_problems(problems)
    lines = [str(problem) for problem in shown]
    if more:
        lines.append(ngettext("and %(num)d more problem", "and %(num)d more problems", more))
    return lines


def definition_paths(paths: Iterable[str]) -> list[str]:
    """The files named, with each directory replaced by its .yaml and .yml files, sorted."""
    found: list[str] = []
    for path in paths:
        folder = FilePath(path)
        if folder.is_dir():
            found += sorted(
                str(child)
                for child in folder.iterdir()
                if child.suffix in (".yaml", ".yml") and child.is_file()
            )
        else:
            found.append(path)
    return found


class _Walker:
    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.positions: dict[Path, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self.seen: set[int] = set()

    def _at(self, node: yaml.Node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def problem(self, node: yaml.Node, message: str) -> None:
        line, column = self._at(node)
        self.problems.append(Problem(self.file, line, column, message))

    def value(self, node: yaml.Node, path: Path) -> Any:
        if node.tag not in _STANDARD_TAGS:
            self.problem(node, _("the tag '%(tag)s' is not allowed", tag=_tag_as_written(node)))
            return None
        if id(node) in self.seen:
            line, column = self._at(node)
            self.problems.append(
                Problem(self.file, line, column, _("anchors and aliases are not allowed"))
            )
            return None
        self.seen.add(id(node))
        self.positions.setdefault(path, self._at(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except ValueError:
            # An impossible timestamp (2024-02-30) passes the resolver, then fails here.
            self.problem(node, _("'%(value)s' is not a real date or time", value=node.value))
            return None

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                line, column = self._at(key_node)
                self.problems.append(
                    Problem(self.file, line, column, _("a key must be plain text"))
                )
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                line, column = self._at(key_node)
                self.problems.append(
                    Problem(self.file, line, column, _("merge keys are not allowed"))
                )
                continue
            if key_node.tag not in _STANDARD_TAGS:
                tag = _tag_as_written(key_node)
                self.problem(key_node, _("the tag '%(tag)s' is not allowed", tag=tag))
                continue
            key = self.scalar(key_node)
            if key in result:
                line, column = self._at(key_node)
                self.problems.append(
                    Problem(
                        self.file, line, column, _("the key '%(key)s' is written twice", key=key)
                    )
                )
                continue
            child = (*path, key)
            # Collections are reported at their key's line; a scalar at the value itself.
            self.positions[child] = self._at(
                value_node if isinstance(value_node, yaml.ScalarNode) else key_node
            )
            result[key] = self.value(value_node, child)
        return result


def _tag_as_written(node: yaml.Node) -> str:
    tag = str(node.tag)
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org") else tag


def pydantic_problems(source: Source, error: Any) -> list[Problem]:
    """Turn a pydantic ValidationError into placed problems."""
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item.get("loc", ()))
        where = ".".join(str(p) for p in loc if not isinstance(p, int)) or "definition"
        problems.append(source.problem(loc, f"{where}: {item.get('msg', 'invalid')}"))
    return problems
