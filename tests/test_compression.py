"""HTML is compressed only where BREACH cannot measure it, and its CSRF token is masked."""

from __future__ import annotations

import gzip

import brotli
from fastapi.testclient import TestClient

from intake.accounts.models import User
from tests.conftest import csrf_from, login

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def _raw(client: TestClient, url: str, headers: dict[str, str]) -> tuple[dict[str, str], bytes]:
    """Response headers and the bytes on the wire (httpx would otherwise decompress them)."""
    with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200, response.status_code
        return dict(response.headers), b"".join(response.iter_raw())


def test_our_own_pages_get_html_gzipped(client: TestClient) -> None:
    headers, body = _raw(client, "/login", {"Accept-Encoding": "gzip", **SAME_ORIGIN})
    assert headers["content-encoding"] == "gzip"
    assert int(headers["content-length"]) == len(body)
    html = gzip.decompress(body).decode()
    assert 'name="csrf_token"' in html
    assert len(body) < len(html.encode()) * 0.6
    vary = [part.strip().lower() for part in headers["vary"].split(",")]
    assert {"accept-encoding", "cookie", "hx-request"} <= set(vary)


def test_brotli_when_accepted_and_typed_urls_count_as_our_own(client: TestClient) -> None:
    headers, body = _raw(
        client, "/login", {"Accept-Encoding": "gzip, br", "Sec-Fetch-Site": "none"}
    )
    assert headers["content-encoding"] == "br"
    assert "csrf_token" in brotli.decompress(body).decode()


def test_requests_from_other_sites_or_unknown_get_html_uncompressed(client: TestClient) -> None:
    for site in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {}):
        headers, body = _raw(client, "/login", {"Accept-Encoding": "gzip, br", **site})
        assert "content-encoding" not in headers, site
        assert b'name="csrf_token"' in body
        assert "accept-encoding" in headers["vary"].lower()


def test_signed_in_pages_compressed_and_still_never_cached(client: TestClient, admin: User) -> None:
    login(client, admin.username)
    headers, body = _raw(client, "/admin/users", {"Accept-Encoding": "gzip", **SAME_ORIGIN})
    assert headers["content-encoding"] == "gzip"
    assert headers["cache-control"] == "no-store"
    assert "csrf_token" in gzip.decompress(body).decode()


def test_each_compressed_page_carries_a_different_token_and_both_work(
    client: TestClient, admin: User
) -> None:
    login(client, admin.username)
    pages = [
        _raw(client, "/admin/users", {"Accept-Encoding": "gzip", **SAME_ORIGIN})[1]
        for _ in range(2)
    ]
    tokens = [csrf_from(gzip.decompress(page).decode()) for page in pages]
    assert tokens[0] != tokens[1]
    assert pages[0] != pages[1]
    for number, token in enumerate(tokens):
        response = client.post(
            "/admin/users",
            data={
                "csrf_token": token,
                "username": f"masked{number}",
                "role": "supervisor",
                "organisation": "Org A",
            },
        )
        assert response.status_code == 200


def test_head_and_non_html_are_left_alone(client: TestClient) -> None:
    head = client.head("/login", headers={"Accept-Encoding": "gzip", **SAME_ORIGIN})
    assert "content-encoding" not in head.headers
    too_large = client.post(
        "/login", content=b"a" * 2_000_000, headers={"Accept-Encoding": "gzip", **SAME_ORIGIN}
    )
    assert too_large.status_code == 413
    assert "content-encoding" not in too_large.headers
