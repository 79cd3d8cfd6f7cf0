"""Every shared vector gives the expected value in Python and in the browser's evaluator."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from intake.expressions import Expression, ValueType, compile_expression

HERE = Path(__file__).resolve().parent
DOCUMENT = json.loads((HERE / "vectors.json").read_text(encoding="utf-8"))
VECTORS: list[dict[str, Any]] = DOCUMENT["vectors"]


def _variables(vector: dict[str, Any]) -> dict[str, ValueType]:
    names = {**DOCUMENT["variables"], **vector.get("variables", {})}
    if "self_type" in vector:
        names["."] = vector["self_type"]
    return {name: ValueType(kind) for name, kind in names.items()}


def _answers(vector: dict[str, Any]) -> dict[str, Any]:
    return vector["answers"] if "answers" in vector else DOCUMENT["answers"]


def _today(vector: dict[str, Any]) -> str:
    return str(vector.get("today", DOCUMENT["today"]))


def _compiled(vector: dict[str, Any]) -> Expression:
    return compile_expression(vector["expression"], variables=_variables(vector))


def _as_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _same(actual: Any, expected: Any) -> bool:
    # Python keeps 7 and 7.0 apart in type only; JSON and JavaScript do not.
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    return bool(actual == expected) and type(actual is None) is type(expected is None)


def test_the_vectors_cover_every_function_and_operator() -> None:
    text = " ".join(vector["expression"] for vector in VECTORS)
    for word in (
        "today(",
        "age(",
        "count(",
        "coalesce(",
        "len(",
        "if(",
        "selected(",
        "contains(",
        "date(",
        " in ",
        " and ",
        " or ",
        "not ",
        "!=",
        "==",
        "<=",
        ">=",
        " < ",
        " > ",
        " = ",
        "+",
        "-",
        "*",
        "/",
        "null",
    ):
        assert word in text, word


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: f"{v['id']}:{v['expression']}")
def test_python_evaluator(vector: dict[str, Any]) -> None:
    expression = _compiled(vector)
    result = expression.evaluate(
        _answers(vector),
        today=dt.date.fromisoformat(_today(vector)),
        self_value=vector.get("self"),
    )
    assert _same(_as_json(result), vector["expected"]), (result, vector["expected"])


def test_browser_evaluator_agrees_on_every_vector(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed, so expr.js cannot be run")
    compiled = [
        {
            "id": vector["id"],
            "ast": _compiled(vector).to_json(),
            "answers": _answers(vector),
            "today": _today(vector),
            "self": vector.get("self"),
        }
        for vector in VECTORS
    ]
    input_file = tmp_path / "compiled.json"
    input_file.write_text(json.dumps(compiled), encoding="utf-8")
    completed = subprocess.run(
        [node, str(HERE / "run_vectors.js"), str(input_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    results = {item["id"]: item for item in json.loads(completed.stdout)}
    wrong = []
    for vector in VECTORS:
        got = results[vector["id"]]
        if "error" in got or not _same(got["result"], vector["expected"]):
            wrong.append((vector["id"], vector["expression"], got, vector["expected"]))
    assert not wrong
    assert len(results) == len(VECTORS)
