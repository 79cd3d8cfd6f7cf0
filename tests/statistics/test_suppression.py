"""Complementary suppression, checked against exact linear algebra: whatever the counts,
no cell under k is shown, and no hidden cell is the only value the shown cells allow."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from intake.statistics.suppression import ALL, Protected, bridges, protect


def _atoms(table: Protected) -> list[tuple[str, str]]:
    return [(r, c) for r in table.rows for c in table.columns]


def _vector(table: Protected, cell: tuple[str, str]) -> list[Fraction]:
    r, c = cell
    return [Fraction(int((r in (ALL, ar)) and (c in (ALL, ac)))) for ar, ac in _atoms(table)]


def _reduce(basis: dict[int, list[Fraction]], vector: list[Fraction]) -> list[Fraction]:
    vector = list(vector)
    for pivot, row in basis.items():
        if vector[pivot]:
            factor = vector[pivot] / row[pivot]
            vector = [v - factor * w for v, w in zip(vector, row, strict=True)]
    return vector


def recoverable(table: Protected) -> set[tuple[str, str]]:
    """Hidden cells whose value the shown cells fix (the cell is in their linear span)."""
    basis: dict[int, list[Fraction]] = {}
    for cell in table.values:
        if cell in table.hidden:
            continue
        rest = _reduce(basis, _vector(table, cell))
        pivot = next((i for i, v in enumerate(rest) if v), None)
        if pivot is not None:
            basis = {p: _reduce({pivot: rest}, row) for p, row in basis.items()}
            basis[pivot] = rest
    return {cell for cell in table.hidden if not any(_reduce(basis, _vector(table, cell)))}


tables = st.integers(1, 4).flatmap(
    lambda rows: st.integers(1, 5).flatmap(
        lambda columns: st.lists(
            st.sampled_from([0, 0, 1, 2, 5, 10, 11, 12, 20, 40]),
            min_size=rows * columns,
            max_size=rows * columns,
        ).map(lambda counts: (rows, columns, counts))
    )
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(shape=tables, k=st.sampled_from([5, 11]))
def test_no_small_cell_is_shown_or_recoverable(shape: tuple[int, int, list[int]], k: int) -> None:
    n_rows, n_columns, flat = shape
    rows = [f"y{i}" for i in range(n_rows)]
    columns = [f"v{i}" for i in range(n_columns)]
    counts = {
        (r, c): flat[i * n_columns + j] for i, r in enumerate(rows) for j, c in enumerate(columns)
    }
    table = protect(counts, rows, columns, threshold=k)
    for cell, value in table.values.items():
        shown = table.shown(cell)
        assert shown is None or not 0 < shown < k, cell
        if 0 < value < k:
            assert cell in table.primary
    assert recoverable(table) == set()
    assert bridges(table.hidden) == []


def test_a_single_small_cell_takes_complements_with_it() -> None:
    table = protect(
        {("2025", "female"): 30, ("2025", "male"): 3, ("2026", "female"): 25, ("2026", "male"): 14},
        ["2025", "2026"],
        ["female", "male"],
        threshold=11,
    )
    assert table.primary == {("2025", "male")}
    # Its row and its column each lose one more cell: no total gives it away.
    assert ("2025", "female") in table.hidden or ("2025", ALL) in table.hidden
    assert ("2026", "male") in table.hidden or (ALL, "male") in table.hidden
    assert recoverable(table) == set()
    assert table.shown((ALL, ALL)) == 72


def test_nothing_hidden_when_every_cell_is_large_or_zero() -> None:
    table = protect(
        {("a", "x"): 11, ("a", "y"): 0, ("b", "x"): 50, ("b", "y"): 12},
        ["a", "b"],
        ["x", "y"],
        threshold=11,
    )
    assert table.hidden == frozenset()


def test_a_total_hidden_elsewhere_is_hidden_here_and_still_safe() -> None:
    table = protect(
        {("a", "x"): 20, ("a", "y"): 20, ("b", "x"): 20, ("b", "y"): 20},
        ["a", "b"],
        ["x", "y"],
        threshold=11,
        hide=[("a", ALL)],
    )
    assert ("a", ALL) in table.hidden
    assert recoverable(table) == set()
