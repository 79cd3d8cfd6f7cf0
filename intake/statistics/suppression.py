"""Small-cell suppression with complementary suppression, for two-way tables with totals.

Every figure a page offers for one breakdown (say, gender) is a cell of one table: a row
per filter value (each year, and ALL years), a column per breakdown value (and ALL). A
filtered view is one row of it; the unfiltered view is the ALL row. So every difference a
reader can take between two views, or between a total and its parts, is a linear
combination of this table's cells, and protecting the table protects every view.

Primary suppression hides each cell from 1 to k-1. Complementary suppression then hides
more cells until no hidden cell can be worked out. The test is exact: write each row
total and column total as an equation, with the totals' signs flipped, so every row and
every column (the total row and column included) sums to zero. The hidden cells are then
the edges of a bipartite graph (row nodes, column nodes, the totals being one more node on
each side), and the values they can take are a particular solution plus any flow around a
cycle. A hidden cell lies on a cycle exactly when it is no bridge of that graph; a bridge
has one possible value, a cell on a cycle has many. So: while a bridge remains, close a
cycle through it along the cheapest path of other cells (already hidden ones cost
nothing; a visible cell costs its count, so few people are hidden). Zero cells are never
used: a reader may know a zero (a month of another year, say) without being told.

Pure functions: no database, no web; tests check them against linear algebra.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ALL = "*"

Cell = tuple[str, str]  # (row, column); ALL in either place is a total
Node = tuple[str, str]  # ("r", row) or ("c", column)


@dataclass(frozen=True)
class Protected:
    """A table's cells with totals, and which are hidden (primary ones: 1 to k-1)."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: Mapping[Cell, int]
    primary: frozenset[Cell]
    hidden: frozenset[Cell]

    def shown(self, cell: Cell) -> int | None:
        """The cell's count, or None when it is hidden."""
        return None if cell in self.hidden else self.values.get(cell, 0)


def with_totals(
    counts: Mapping[Cell, int], rows: Iterable[str], columns: Iterable[str]
) -> dict[Cell, int]:
    """Every cell of rows x columns, plus each row's, each column's and the grand total."""
    rows, columns = list(rows), list(columns)
    values: dict[Cell, int] = {}
    for r in rows:
        for c in columns:
            values[(r, c)] = int(counts.get((r, c), 0))
    for r in rows:
        values[(r, ALL)] = sum(values[(r, c)] for c in columns)
    for c in columns:
        values[(ALL, c)] = sum(values[(r, c)] for r in rows)
    values[(ALL, ALL)] = sum(values[(r, ALL)] for r in rows)
    return values


def _ends(cell: Cell) -> tuple[Node, Node]:
    return ("r", cell[0]), ("c", cell[1])


def bridges(edges: Iterable[Cell]) -> list[Cell]:
    """The hidden cells that are bridges of their graph (each has one possible value)."""
    adjacency: dict[Node, list[tuple[Node, Cell]]] = defaultdict(list)
    ordered = sorted(set(edges))
    for cell in ordered:
        a, b = _ends(cell)
        adjacency[a].append((b, cell))
        adjacency[b].append((a, cell))
    found: list[Cell] = []
    order: dict[Node, int] = {}
    low: dict[Node, int] = {}
    for start in sorted(adjacency):
        if start in order:
            continue
        order[start] = low[start] = len(order)
        # Iterative depth-first search: (node, the edge we came by, next neighbour index).
        stack: list[tuple[Node, Cell | None, int]] = [(start, None, 0)]
        while stack:
            node, via, index = stack[-1]
            if index < len(adjacency[node]):
                stack[-1] = (node, via, index + 1)
                other, cell = adjacency[node][index]
                if cell == via:
                    continue
                if other in order:
                    low[node] = min(low[node], order[other])
                else:
                    order[other] = low[other] = len(order)
                    stack.append((other, cell, 0))
                continue
            stack.pop()
            if stack and via is not None:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[node])
                if low[node] > order[parent]:
                    found.append(via)
    return sorted(found)


def _cheapest_cycle(cell: Cell, values: Mapping[Cell, int], hidden: set[Cell]) -> list[Cell] | None:
    """The cells (other than `cell`) of the cheapest path joining its two ends."""
    start, goal = _ends(cell)
    adjacency: dict[Node, list[tuple[Node, Cell]]] = defaultdict(list)
    for other, value in values.items():
        if other == cell or (other not in hidden and value <= 0):
            continue
        a, b = _ends(other)
        adjacency[a].append((b, other))
        adjacency[b].append((a, other))
    best: dict[Node, int] = {start: 0}
    came: dict[Node, tuple[Node, Cell]] = {}
    queue: list[tuple[int, Node]] = [(0, start)]
    while queue:
        cost, node = heapq.heappop(queue)
        if node == goal:
            break
        if cost > best.get(node, cost):
            continue
        for other, edge in sorted(adjacency[node]):
            step = cost + (0 if edge in hidden else values[edge])
            if step < best.get(other, step + 1):
                best[other] = step
                came[other] = (node, edge)
                heapq.heappush(queue, (step, other))
    if goal not in came:
        return None
    path, node = [], goal
    while node != start:
        node, edge = came[node]
        path.append(edge)
    return path


def protect(
    counts: Mapping[Cell, int],
    rows: Iterable[str],
    columns: Iterable[str],
    *,
    threshold: int,
    hide: Iterable[Cell] = (),
) -> Protected:
    """The table with its totals, every cell under `threshold` hidden, and enough others
    hidden that none can be worked out. `hide`: cells hidden elsewhere (a total that
    another table hid), hidden here too so the two tables agree."""
    rows, columns = tuple(rows), tuple(columns)
    values = with_totals(counts, rows, columns)
    primary = {cell for cell, value in values.items() if 0 < value < threshold}
    hidden = set(primary) | {cell for cell in hide if cell in values}
    while True:
        open_bridges = bridges(hidden)
        if not open_bridges:
            break
        path = _cheapest_cycle(open_bridges[0], values, hidden)
        if not path:
            # No other cell can hide it: hide every count (never the case with totals
            # present, kept so the loop always ends safe).
            hidden |= {cell for cell, value in values.items() if value > 0}
            if not bridges(hidden):
                break
            hidden |= set(values)
            break
        hidden |= set(path)
    return Protected(rows, columns, values, frozenset(primary), frozenset(hidden))
