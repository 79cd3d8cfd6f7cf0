"""Any text as a CSRF token or cookie is refused with the 403 page, never a 500.

Hypothesis posts arbitrary text (non-ASCII, control characters, huge) as the
token, in the form field and in the X-CSRF-Token header, to POST routes signed
out and signed in, and as the cookies the token is bound to.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.accounts.models import User
from tests.conftest import csrf_from, login

REFUSED = "expired or did not come from this site"

hostile_text = st.one_of(
    st.text(min_size=1),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x1F), min_size=1),
    st.text(st.characters(min_codepoint=0x80), min_size=1),
    st.integers(min_value=2**63).map(str),
    # The shape of a real token (86 base64url characters) with the wrong value.
    st.from_regex(r"[A-Za-z0-9_-]{86}", fullmatch=True),
    st.builds(lambda c, n: c * n, st.characters(), st.integers(1000, 100_000)),
)

HYPOTHESIS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SIGNED_OUT = [
    ("/login", {"username": "someone", "password": "x"}),
    ("/language", {"locale": "en"}),
    ("/logout", {}),
    ("/admin/users", {"username": "n", "role": "admin", "organisation": "O"}),
]
SIGNED_IN = [
    ("/logout", {}),
    ("/language", {"locale": "en"}),
    ("/forms/first_contact/new", {"client_id": "c1", "language": "en"}),
    ("/admin/users", {"username": "n", "role": "admin", "organisation": "O"}),
    ("/account/password", {"current": "x", "new": "y", "confirm": "y"}),
]


def _header_value(text: str) -> bytes:
    # Raw bytes, as a hostile client sends them (TestClient does not validate headers).
    return text.encode("utf-8", "surrogatepass")


def _assert_refused(response) -> None:
    assert response.status_code != 500
    if response.status_code == 413:  # a huge token may pass a route's body limit first
        assert "too large" in response.text
        return
    assert response.status_code == 403, response.status_code
    assert REFUSED in response.text


@pytest.fixture
def signed_in(client: TestClient, admin: User) -> Iterator[TestClient]:
    # An administrator reaches every route above (a worker's would be a 403 anyway).
    login(client, admin.username)
    assert client.get("/").status_code == 200
    yield client


@HYPOTHESIS
@given(token=hostile_text, route=st.sampled_from(SIGNED_OUT))
def test_any_token_in_the_field_is_refused_signed_out(
    client: TestClient, token: str, route: tuple[str, dict[str, str]]
) -> None:
    client.get("/login")  # a pre-session cookie, as a browser has
    path, data = route
    _assert_refused(client.post(path, data={**data, "csrf_token": token}))


@HYPOTHESIS
@given(token=hostile_text, route=st.sampled_from(SIGNED_OUT))
def test_any_token_in_the_header_is_refused_signed_out(
    client: TestClient, token: str, route: tuple[str, dict[str, str]]
) -> None:
    client.get("/login")
    path, data = route
    response = client.post(path, data=data, headers={"X-CSRF-Token": _header_value(token)})
    _assert_refused(response)


@HYPOTHESIS
@given(token=hostile_text, route=st.sampled_from(SIGNED_IN), in_header=st.booleans())
def test_any_token_is_refused_signed_in(
    signed_in: TestClient, token: str, route: tuple[str, dict[str, str]], in_header: bool
) -> None:
    path, data = route
    if in_header:
        response = signed_in.post(
            path, data=data, headers={"X-CSRF-Token": _header_value(token), "HX-Request": "true"}
        )
    else:
        response = signed_in.post(path, data={**data, "csrf_token": token})
    _assert_refused(response)
    assert signed_in.get("/").status_code == 200  # still signed in: nothing happened


@HYPOTHESIS
@given(presession=hostile_text, session=hostile_text, token=hostile_text)
def test_hostile_cookies_crash_nothing_and_the_page_still_works(
    app: FastAPI, presession: str, session: str, token: str
) -> None:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as fresh:
        cookies = {"intake_pre": presession, "intake_session": session}

        def cookie_header() -> bytes:
            return _header_value("; ".join(f"{k}={v}" for k, v in cookies.items()))

        page = fresh.get("/login", headers={"Cookie": cookie_header()})
        assert page.status_code == 200
        issued = page.cookies.get("intake_pre")
        if issued:  # as a browser does: the new pre-session cookie replaces the hostile one
            cookies["intake_pre"] = issued
        hostile = fresh.post(
            "/language",
            data={"locale": "en", "csrf_token": token},
            headers={"Cookie": cookie_header()},
        )
        _assert_refused(hostile)
        own = fresh.post(
            "/language",
            data={"locale": "en", "csrf_token": csrf_from(page.text)},
            headers={"Cookie": cookie_header()},
        )
        assert own.status_code == 303, own.status_code


def test_a_cookie_we_never_issued_is_replaced(client: TestClient) -> None:
    for value in ("ünïcödé", "x" * 5000, "0" * 16, "\x00\x1f"):
        page = client.get("/login", headers={"Cookie": _header_value(f"intake_pre={value}")})
        assert page.status_code == 200
        assert len(page.cookies["intake_pre"]) == 43  # a fresh secrets.token_urlsafe(32)
