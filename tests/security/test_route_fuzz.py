"""No input crashes a route: a property test over the whole route inventory.

For every route the app itself declares (`iter_api_routes`, never a hand-kept
list) and each of its methods, Hypothesis sends arbitrary text (non-ASCII,
control characters, lone surrogates as raw bytes, huge and negative integers)
as every path parameter, query parameter and declared form field, plus unknown
fields, the CSRF field and header, the session and language cookies,
Accept-Language, HX-Request, Content-Type, Origin and Referer. Path parameters
and values are sometimes real (a case, a draft, a user, a definition), so that
requests get past the lookups into the route bodies, and the CSRF token is
valid most of the time, so that they get past the CSRF refusal.

It runs signed out and signed in as each role, on each database backend, and
asserts that no response is a 500 and no body shows a Python traceback.
"""

from __future__ import annotations

import os
import re
import typing
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from fastapi import FastAPI, params
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases.models import Case, CaseTeamMember, Intake
from intake.definitions import service as definitions
from intake.definitions.models import DefinitionVersion
from intake.filling.models import FormDraft, Submission
from intake.middleware import LANGUAGE_COOKIE
from intake.security import passwords
from intake.security.csrf import FIELD, HEADER
from intake.security.models import ClientThrottle
from intake.security.permissions import ROLE_PERMISSIONS, declared_access, iter_api_routes
from intake.security.sessions import cookie_name
from tests.cases.flow import CONSENT_GIVEN, fill_pages, start_intake
from tests.cases.helpers import assign, open_case
from tests.conftest import PASSWORD, csrf_from, login, make_user, page_token

IDENTITIES = ["signed_out", "outreach_worker", "supervisor", "admin", "installation_admin"]
TRACEBACK = "Traceback (most recent call last)"
NAME = re.compile(r"[a-z_][a-z0-9_.]{0,63}")
# Enough to visit every route of the inventory a few times per identity, within
# the time budget; raise it locally (INTAKE_FUZZ_EXAMPLES=2000) for a longer hunt.
EXAMPLES = int(os.environ.get("INTAKE_FUZZ_EXAMPLES", "4"))
PLUMBING_EXAMPLES = max(1, EXAMPLES * 3 // 4)
# A route this identity may not use stops at the permission check: a few examples suffice.
FEW_EXAMPLES = max(1, EXAMPLES // 2)

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

# -- values ---------------------------------------------------------------------------

SPECIAL = [
    "",
    " ",
    "0",
    "-1",
    "1",
    "2",
    str(2**31),
    str(2**63),
    str(10**30),
    str(-(10**30)),
    "9" * 400,
    "1e309",
    "NaN",
    "\x00",
    "\r\n",
    "\t",
    "\x7f\x1b[0m",
    "é",
    "Ольга",
    "ąčęėįšųūž",
    "👩🏽‍⚕️",
    "\u202e",
    "\ufeff",
    "..",
    ".",
    "%",
    "%00",
    "%2F",
    "?",
    "#",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "{{ 7*7 }}",
    "null",
    "true",
    "[]",
    "{}",
    "2024-02-30",
    "0000-00-00",
    "-0001-01-01",
    "9999999-12-31",
]

any_char = st.characters()  # everything but nothing: surrogates included, sent as raw bytes
huge_ints = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([10**30, -(10**30), 2**63, 2**64, -(2**63) - 1, 2**31, -1, 0]),
).map(str)
hostile_text = st.one_of(
    st.sampled_from(SPECIAL),
    huge_ints,
    st.text(any_char, max_size=40),
    st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=10),
    st.text(st.characters(min_codepoint=0x80), min_size=1, max_size=20),
    st.builds(lambda c, n: c * n, any_char, st.integers(200, 5000)),
)
# A path parameter: no "/" (the router would not match), percent-encoded as bytes.
segment_text = st.one_of(
    st.sampled_from([s for s in SPECIAL if s and "/" not in s]),
    huge_ints,
    st.text(st.characters(exclude_characters="/"), min_size=1, max_size=40),
)


def raw(text: str) -> bytes:
    """Text as a hostile client sends it: UTF-8, lone surrogates and all."""
    return text.encode("utf-8", "surrogatepass")


def value_of(real: list[str]) -> st.SearchStrategy[str]:
    """Mostly hostile text; sometimes a value the app knows (an id, a choice, a key)."""
    if not real:
        return hostile_text
    return st.one_of(st.sampled_from(real), hostile_text)


# -- the route inventory ----------------------------------------------------------------


def _params(dependant: Any, kind: str) -> list[Any]:
    found = list(getattr(dependant, kind))
    for sub in dependant.dependencies:
        found.extend(_params(sub, kind))
    return found


@dataclass(frozen=True)
class Field:
    name: str
    many: bool
    file: bool


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    path_params: tuple[str, ...]
    query: tuple[str, ...]
    form: tuple[Field, ...]
    access: frozenset[str]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def endpoints(app: FastAPI) -> list[Endpoint]:
    found = []
    for route in iter_api_routes(app.routes):
        assert isinstance(route, APIRoute)
        form = []
        for param in _params(route.dependant, "body_params"):
            annotation = param.field_info.annotation
            many = typing.get_origin(annotation) is list
            form.append(Field(param.alias, many, isinstance(param.field_info, params.File)))
        query = tuple(p.alias for p in _params(route.dependant, "query_params"))
        for method in sorted(route.methods or ()):
            found.append(
                Endpoint(
                    method,
                    route.path,
                    tuple(route.param_convertors),
                    query,
                    tuple(form),
                    frozenset(declared_access(route.dependant)),
                )
            )
    return found


# -- the world the requests land in ---------------------------------------------------------


@dataclass
class World:
    users: dict[str, User]
    real: dict[str, list[str]] = field(default_factory=dict)


def _definition_names(db: Session) -> list[str]:
    """Every name the published definitions use: fields, choices, states, triggers, tracks."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(key)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str) and NAME.fullmatch(node):
            names.add(node)

    for version in db.execute(select(DefinitionVersion)).scalars():
        walk(version.parsed)
    return sorted(names)


@pytest.fixture
def world(db: Session, client: TestClient, org: Organisation, other_org: Organisation) -> World:
    definitions.sync_files(db=db)
    # A second version of one workflow, so that migrations have a source and a target.
    workflow = definitions.latest_of_kind(db=db, kind="workflow")[0]
    definitions.publish(
        db=db,
        kind="workflow",
        text=workflow.source_text,
        file=workflow.source_name,
        actor=None,
        allow_unchanged=True,
    )
    users = {role: make_user(db, org, role) for role in IDENTITIES[1:]}
    colleague = make_user(db, org, "outreach_worker", "colleague")
    stranger = make_user(db, other_org, "outreach_worker", "stranger")
    own = open_case(db, users["outreach_worker"])
    assign(db, users["supervisor"], own, colleague, "social_worker")
    open_case(db, stranger)
    # Drafts and intakes in progress, started through the pages as a worker's phone
    # does: the worker's consent draft waits at its review step.
    for role in ("outreach_worker", "supervisor"):
        login(client, users[role].username)
        draft = start_intake(client)
        if role == "outreach_worker":
            fill_pages(client, draft, CONSENT_GIVEN)
        client.post("/logout", data={FIELD: page_token(client)})
    client.cookies.clear()

    def ids(column: Any) -> list[str]:
        return [str(v) for v in db.execute(select(column)).scalars()]

    versions = list(db.execute(select(DefinitionVersion)).scalars())
    real = {
        "user_id": ids(User.id),
        "member_id": ids(CaseTeamMember.id) + ids(User.id),
        "organisation_id": ids(Organisation.id),
        "case_id": ids(Case.id),
        "intake_id": ids(Intake.id),
        "client_id": ids(FormDraft.client_id) + ids(Submission.client_id),
        "form_key": sorted({v.key for v in versions if v.kind == "form"}),
        "key": sorted({v.key for v in versions}),
        "/workflow/{key}/migrate:key": sorted({v.key for v in versions if v.kind == "workflow"}),
        "kind": ["form", "workflow"],
        "number": sorted({str(v.number) for v in versions}),
        "published": ["1", "2"],
        # Well-formed ids nobody has used yet (a new filling's client id).
        "_fresh": [f"fuzz{n:012d}abcdefgh" for n in range(3)],
    }
    names = _definition_names(db)
    real["_names"] = [*names, "_action", "_reviewed", "_confirm_new", "_language", "next", "back"]
    real["_values"] = sorted(
        {v for values in real.values() for v in values} | {"en", "lt", "ru", "1", "2", "3"}
    )
    return World(users, real)


# -- one request ------------------------------------------------------------------------------


@dataclass
class Identity:
    name: str
    cookies: dict[str, str]
    token: str
    session_cookie: str


CONTENT_TYPES = [
    "text/plain",
    "application/json",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=\x00",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/x-www-form-urlencoded; charset=utf-ünknown",
    "",
]


@st.composite
def requests(
    draw: st.DrawFn, endpoint: Endpoint, world: World, me: Identity, plumbing: bool
) -> dict[str, Any]:
    """One request. Without `plumbing` it is what a browser sends (a valid token, plain
    headers) with hostile values in the path, query and fields; with it, the token,
    cookies, headers and Content-Type are hostile too."""
    real = world.real
    path = endpoint.path
    for name in endpoint.path_params:
        options = real.get(f"{endpoint.path}:{name}", real.get(name, []))
        value = draw(st.one_of(st.sampled_from(options), segment_text) if options else segment_text)
        path = path.replace("{" + name + "}", quote(raw(value), safe=""))
    query = [
        (name, draw(value_of(real.get(name, [])))) for name in endpoint.query if draw(st.booleans())
    ]
    if query:
        path += "?" + urlencode([(k, raw(v)) for k, v in query])

    fields: list[tuple[str, str]] = []
    files: list[tuple[str, str]] = []
    for form_field in endpoint.form:
        if draw(st.integers(0, 4)) == 4:  # mostly present
            continue
        values = [draw(value_of(real["_values"]))]
        if form_field.many:
            values = draw(st.lists(value_of(real["_values"]), max_size=4))
        for value in values:
            (files if form_field.file else fields).append((form_field.name, value))
    if endpoint.method == "POST":
        extra_names = st.one_of(st.sampled_from(real["_names"]), hostile_text)
        fields += draw(st.lists(st.tuples(extra_names, value_of(real["_values"])), max_size=4))
    token = me.token
    if plumbing and draw(st.booleans()):
        token = draw(hostile_text)
    in_field = not plumbing or draw(st.booleans())
    if endpoint.method == "POST" and in_field:
        fields.insert(0, (FIELD, token))
    headers: dict[str, bytes] = {}
    if plumbing and (not in_field or draw(st.booleans())):
        headers[HEADER] = raw(token if draw(st.booleans()) else draw(hostile_text))

    cookies = dict(me.cookies)
    if plumbing and draw(st.booleans()):
        cookies[me.session_cookie] = draw(hostile_text)
    languages = ["en", "lt", "ru"]
    if draw(st.booleans()):
        lang = draw(value_of(languages) if plumbing else st.sampled_from(languages))
        cookies[LANGUAGE_COOKIE] = lang
    if cookies:
        headers["Cookie"] = raw("; ".join(f"{k}={v}" for k, v in cookies.items()))
    for name, plain in (
        ("Accept-Language", ["en", "lt", "ru", "ru-RU,ru;q=0.9,en;q=0.8", "*", "xx;q=2"]),
        ("HX-Request", ["true", "false"]),
        ("Origin", ["http://testserver", "null", "https://evil.example"]),
        ("Referer", ["http://testserver/cases", "http://testserver/fill/x?y=1"]),
    ):
        if draw(st.booleans()):
            sane = plain[:2] if name == "Origin" else plain
            headers[name] = raw(draw(value_of(plain) if plumbing else st.sampled_from(sane)))

    body = b""
    if endpoint.method == "POST":
        encoding = draw(st.integers(0, 3)) if plumbing else draw(st.integers(0, 1))
        if encoding <= 1:  # a browser's form post, with or without files
            if files or encoding == 1:
                boundary = "fuzzboundaryfuzz"
                parts = []
                for name, value in fields:
                    parts.append(
                        b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                        % (boundary.encode(), raw(name), raw(value))
                    )
                for name, value in files:
                    parts.append(
                        b'--%s\r\nContent-Disposition: form-data; name="%s"; '
                        b'filename="%s.yaml"\r\nContent-Type: application/x-yaml\r\n\r\n%s\r\n'
                        % (boundary.encode(), raw(name), raw(value[:20]), raw(value))
                    )
                body = b"".join(parts) + b"--%s--\r\n" % boundary.encode()
                headers["Content-Type"] = b"multipart/form-data; boundary=" + boundary.encode()
            else:
                body = urlencode([(k, raw(v)) for k, v in fields]).encode()
                headers["Content-Type"] = b"application/x-www-form-urlencoded"
        elif encoding == 2:  # the right fields with a wrong or hostile Content-Type
            body = urlencode([(k, raw(v)) for k, v in fields]).encode()
            headers["Content-Type"] = raw(draw(value_of(CONTENT_TYPES)))
        else:  # anything at all
            body = raw(draw(hostile_text))
            if draw(st.booleans()):
                headers["Content-Type"] = raw(draw(value_of(CONTENT_TYPES)))
    return {"endpoint": endpoint, "url": path, "headers": headers, "body": body, "fields": fields}


# -- the test ---------------------------------------------------------------------------


def _identity(client: TestClient, app: FastAPI, world: World, name: str) -> Identity:
    settings_ = app.state.settings
    client.cookies.clear()
    if name == "signed_out":
        token = csrf_from(client.get("/login").text)
    else:
        response = login(client, world.users[name].username)
        assert getattr(response, "status_code", None) == 303, name
        token = page_token(client, "/")
    cookies = {cookie.name: cookie.value for cookie in client.cookies.jar}
    client.cookies.clear()
    session = cookie_name(settings_)
    assert name == "signed_out" or session in cookies
    return Identity(name, cookies, token, session)


def _restore(db: Session, world: World, name: str) -> None:
    """Undo what a request may have done to the acting user (disabled, locked, signed out)."""
    if name == "signed_out":
        return
    db.expire_all()
    user = db.get(User, world.users[name].id)
    assert user is not None
    user.active = True
    user.locked_until = None
    user.failed_logins = 0
    user.must_change_password = False
    user.password_hash = passwords.hash_password(PASSWORD)
    user.organisation.active = True
    # Fuzzed sign-ins from the test client's address block it: lift that too.
    db.execute(delete(ClientThrottle))
    db.commit()


def _reaches(identity: str, endpoint: Endpoint) -> bool:
    """Whether this identity gets past the route's permission check (else fewer examples)."""
    if "public" in endpoint.access:
        return True
    granted = {str(p) for p in ROLE_PERMISSIONS.get(identity, frozenset())}
    return bool(endpoint.access & granted)


@pytest.mark.parametrize("identity", IDENTITIES)
def test_no_input_crashes_any_route(
    app: FastAPI,
    client: TestClient,
    db: Session,
    world: World,
    identity: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    inventory = endpoints(app)
    assert len(inventory) >= 40
    state: dict[str, Any] = {"me": _identity(client, app, world, identity), "check": False}

    def send(endpoint: Endpoint, plumbing: bool, data: st.DataObject) -> None:
        me: Identity = state["me"]
        if state["check"]:
            # The last request may have signed this identity out (logout, revoked
            # sessions, a disabled account): sign in again so requests reach the routes.
            still = client.get("/", headers={"Cookie": raw(_cookies(me))})
            client.cookies.clear()
            if identity != "signed_out" and still.status_code != 200:
                _restore(db, world, identity)
                state["me"] = me = _identity(client, app, world, identity)
            state["check"] = False
        request = data.draw(requests(endpoint, world, me, plumbing), label="request")
        note(f"{endpoint}: {request['url']!r} fields={request['fields']!r}")
        note(f"headers={request['headers']!r}")
        caplog.clear()
        client.cookies.clear()
        response = client.request(
            endpoint.method, request["url"], content=request["body"], headers=request["headers"]
        )
        client.cookies.clear()
        state["check"] = endpoint.method == "POST" and response.status_code < 400
        crashed = [r.getMessage() for r in caplog.records if "unhandled" in r.getMessage()]
        assert response.status_code < 500, (str(endpoint), response.status_code, crashed)
        assert TRACEBACK not in response.text, str(endpoint)

    failures = []
    for endpoint in inventory:
        if _reaches(identity, endpoint):
            runs = [(False, EXAMPLES), (True, PLUMBING_EXAMPLES)]
        else:  # the permission check refuses it: only the plumbing before it is fuzzed
            runs = [(True, FEW_EXAMPLES)]
        for plumbing, examples in runs:
            run = settings(FUZZ, max_examples=examples)(
                given(data=st.data())(_bound(send, endpoint, plumbing))
            )
            try:
                run()
            except Exception as exc:  # every crashing route is reported, not only the first
                notes = "\n".join(getattr(exc, "__notes__", []))
                failures.append(f"{endpoint} (plumbing={plumbing}): {exc!r}\n{notes}")
    assert not failures, "\n\n".join(failures)


def _bound(send: Any, endpoint: Endpoint, plumbing: bool) -> Any:
    def one_request(data: st.DataObject) -> None:
        send(endpoint, plumbing, data)

    return one_request


def _cookies(me: Identity) -> str:
    return "; ".join(f"{k}={v}" for k, v in me.cookies.items())
