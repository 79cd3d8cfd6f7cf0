"""No request crashes the API: Hypothesis builds requests from the API's own OpenAPI document.

For every operation of /api/v1/openapi.json (read from the running application, never a
hand-kept list), bodies are drawn from the documented schema (with the answers of a real
form filled with hostile JSON), or as arbitrary JSON, or as arbitrary bytes; path
parameters are hostile text or real ids; the token is valid with every scope, valid with
one scope, garbage or absent; the Content-Type is right, wrong or hostile. Every answer
must be below 500, JSON, and free of a traceback. Runs on each database backend.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.orm import Session

from intake.accounts import tokens
from intake.accounts.models import Organisation
from intake.security.models import ClientThrottle
from tests.api.conftest import make_token
from tests.cases.helpers import open_case
from tests.conftest import make_user
from tests.statistics.helpers import coordination_body

EXAMPLES = int(os.environ.get("INTAKE_FUZZ_EXAMPLES", "60"))
FIELDS = [
    "given_name",
    "family_name",
    "birth_date",
    "age",
    "gender",
    "contact_date",
    "where_met",
    "immediate_needs",
    "safety_risk",
    "contact_phone",
]
hostile_text = st.one_of(
    st.sampled_from(["", " ", "\x00", "1e309", "NaN", "Ольга", "<script>", "9" * 400, "%00"]),
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), min_size=200, max_size=2000),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**40), 10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return dict(document["components"]["schemas"][ref.rpartition("/")[2]])
    return schema


def from_schema(
    document: dict[str, Any], schema: dict[str, Any], real: dict[str, list[str]]
) -> Any:
    """A strategy for values of a JSON schema (the subset the API's documents use),
    mostly valid, sometimes not."""
    schema = _resolve(document, schema)
    if "anyOf" in schema:
        return st.one_of([from_schema(document, s, real) for s in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        properties = {
            name: from_schema(document, sub, real) for name, sub in schema["properties"].items()
        }
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: v for k, v in properties.items() if k in required},
            optional={k: v for k, v in properties.items() if k not in required},
        )
    if kind == "object":  # the answers: a real form's fields, hostile values
        return st.dictionaries(
            st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), json_values, max_size=12
        )
    if kind == "string":
        title = str(schema.get("title", "")).lower().replace(" ", "_")
        options = [st.sampled_from(real[title])] if real.get(title) else []
        if "pattern" in schema:
            options.append(st.from_regex(schema["pattern"], fullmatch=True))
        return st.one_of(*options, hostile_text)
    if kind == "integer":
        return st.one_of(
            st.integers(int(schema.get("minimum", 0)), int(schema.get("maximum", 10))),
            st.integers(-(10**30), 10**30),
        )
    if kind == "null":
        return st.none()
    return json_values


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, methods in document["paths"].items()
        for method, op in methods.items()
    ]


@st.composite
def requests(
    draw: st.DrawFn,
    document: dict[str, Any],
    operation: tuple[str, str, dict[str, Any]],
    secrets: list[str],
    real: dict[str, list[str]],
) -> dict[str, Any]:
    method, path, op = operation
    query = []
    for parameter in op.get("parameters", []):
        value = draw(st.one_of(st.sampled_from(real.get(parameter["name"], ["x"])), hostile_text))
        encoded = quote(value.encode("utf-8", "surrogatepass"), safe="")
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", encoded or "x")
        elif parameter["in"] == "query" and draw(st.booleans()):
            query.append(f"{parameter['name']}={encoded}")
    if query:
        path += "?" + "&".join(query)
    headers: dict[str, bytes] = {}
    token = draw(
        st.one_of(st.sampled_from(secrets), st.none(), hostile_text.map(lambda t: "itk_" + t))
    )
    if token is not None:
        scheme = draw(st.sampled_from(["Bearer", "Bearer", "bearer", "Basic", ""]))
        headers["Authorization"] = f"{scheme} {token}".encode("utf-8", "surrogatepass")
    body = b""
    if "requestBody" in op:
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        shape = draw(st.integers(0, 5))
        value = draw(from_schema(document, schema, real) if shape <= 3 else json_values)
        body = json.dumps(value).encode() if shape != 5 else draw(st.binary(max_size=200))
        headers["Content-Type"] = draw(  # as bytes: a hostile client sends any
            st.sampled_from(
                ["application/json"] * 4
                + [
                    "text/plain",
                    "application/x-www-form-urlencoded",
                    "",
                    "application/json; charset=ü",
                ]
            )
        ).encode()
    return {"method": method, "url": path, "headers": headers, "content": body}


@pytest.fixture
def world(db: Session, org: Organisation, other_org: Organisation) -> dict[str, Any]:
    worker = make_user(db, org, "outreach_worker")
    supervisor = make_user(db, org, "supervisor")
    coordinator = make_user(db, coordination_body(db), "coordinator")
    stranger = make_user(db, other_org, "outreach_worker", "stranger")
    cases = [open_case(db, worker), open_case(db, stranger)]
    secrets = [
        make_token(db, worker),
        make_token(db, supervisor),
        make_token(db, supervisor, scopes=["cases:read"]),
        make_token(db, worker, scopes=["submissions:write"]),
        make_token(db, coordinator),
    ]
    real = {
        "case_id": [c.id for c in cases],
        "form": ["first_contact", "consent", "urgent_needs"],
        "client_id": [f"fuzz{n:04d}abcdefghijkl" for n in range(3)],
        "language": ["en", "lt", "ru"],
        "year": ["2024", "2026", ""],
    }
    return {"secrets": secrets, "real": real}


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def test_no_request_built_from_the_openapi_document_gets_a_5xx(
    client: TestClient, db: Session, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "REQUESTS_PER_MINUTE", 10**6)
    document = client.get("/api/v1/openapi.json").json()
    found = operations(document)
    assert {(m, p) for m, p, _ in found} >= {
        ("GET", "/api/v1/definitions"),
        ("POST", "/api/v1/submissions"),
        ("GET", "/api/v1/cases/{case_id}"),
        ("GET", "/api/v1/statistics"),
    }

    def send(operation: tuple[str, str, dict[str, Any]], data: st.DataObject) -> None:
        request = data.draw(requests(document, operation, world["secrets"], world["real"]))
        note(repr(request))
        response = client.request(**request)
        seen.add((operation[1], response.status_code))
        assert response.status_code < 500, (request, response.status_code, response.text[:300])
        assert response.headers["content-type"].startswith("application/json")
        assert "Traceback" not in response.text
        if response.status_code == 429:  # unknown tokens blocked this address: lift it
            db.execute(delete(ClientThrottle))
            db.commit()

    seen: set[tuple[str, int]] = set()
    failures = []
    for operation in found:
        run = FUZZ(given(data=st.data())(_bound(send, operation)))
        try:
            run()
        except Exception as exc:  # every crashing operation is reported, not only the first
            failures.append(f"{operation[0]} {operation[1]}: {exc!r}")
    assert not failures, "\n\n".join(failures)
    # The requests got past the token guard into every route, not only into its refusals.
    for _method, path, _op in found:
        assert {status for p, status in seen if p == path} - {401, 403, 422, 429}, path


def _bound(send: Any, operation: tuple[str, str, dict[str, Any]]) -> Any:
    def one_request(data: st.DataObject) -> None:
        send(operation, data)

    return one_request
