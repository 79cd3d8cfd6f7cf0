"""Vendored files are the pinned ones, and the shell configures htmx safely."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi.testclient import TestClient

STATIC = Path(__file__).resolve().parent.parent / "intake" / "static"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def test_htmx_is_the_pinned_release() -> None:
    digest = hashlib.sha256((STATIC / "vendor" / "htmx-2.0.11.min.js").read_bytes()).hexdigest()
    assert digest == HTMX_SHA256


def test_page_loads_only_our_own_assets_and_safe_htmx_config(client: TestClient) -> None:
    import json

    from bs4 import BeautifulSoup

    soup = BeautifulSoup(client.get("/login").text, "html.parser")
    for tag in soup.find_all(["script", "link"]):
        url = tag.get("src") or tag.get("href")
        if url == "data:,":  # the empty icon: no request at all
            continue
        # The web app manifest is ours too, served from the site root (offline_views).
        assert url.startswith("/static/") or url == "/manifest.webmanifest", url
        assert client.get(url).status_code == 200
    assert soup.find("script", src=False) is None  # no inline script
    assert soup.find(style=True) is None  # no inline style
    config = json.loads(soup.find("meta", {"name": "htmx-config"})["content"])
    assert config["allowEval"] is False
    assert config["selfRequestsOnly"] is True
    assert config["historyCacheSize"] == 0
    assert config["includeIndicatorStyles"] is False


# --- Hashed names, precompression, caching -------------------------------------------------

IMMUTABLE = "public, max-age=31536000, immutable"
TEMPLATES = Path(__file__).resolve().parent.parent / "intake" / "templates"


def _raw(client: TestClient, url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the bytes on the wire (httpx would otherwise decompress them)."""
    encoded = {name: value.encode() for name, value in headers.items()}  # raw, as sent
    with client.stream("GET", url, headers=encoded) as response:
        body = b"".join(response.iter_raw())
        return response.status_code, dict(response.headers), body


def _asset_urls(html: str) -> list[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    urls = [tag.get("src") or tag.get("href") for tag in soup.find_all(["script", "link"])]
    return [url for url in urls if url and url.startswith("/static/")]


def _plain_name(url: str) -> str:
    """/static/css/app.<16 hex>.css -> css/app.css"""
    import re

    return re.sub(r"\.[0-9a-f]{16}(\.[^./]+)$", r"\1", url.removeprefix("/static/"))


def test_no_template_names_a_static_file_by_hand() -> None:
    for template in TEMPLATES.rglob("*.html"):
        assert "/static/" not in template.read_text(), template


def test_pages_link_hashed_names_served_for_a_year(client: TestClient) -> None:
    import re

    from intake.static_assets import static_url

    urls = _asset_urls(client.get("/login").text)
    for template in TEMPLATES.rglob("*.html"):
        for name in re.findall(r"static_url\('([^']+)'\)", template.read_text()):
            urls.append(static_url(name))
    assert len(set(urls)) >= 9
    for url in set(urls):
        name = _plain_name(url)
        assert name != url.removeprefix("/static/"), url  # the name carries a hash
        status, headers, body = _raw(client, url, **{"Accept-Encoding": "identity"})
        assert status == 200
        assert headers["cache-control"] == IMMUTABLE
        assert "accept-encoding" in headers["vary"].lower()
        assert body == (STATIC / name).read_bytes()
        assert hashlib.sha256(body).hexdigest().startswith(url.rsplit(".", 2)[1])


def test_each_encoding_the_phone_accepts_is_served_precompressed(client: TestClient) -> None:
    import gzip

    import brotli

    from intake.static_assets import static_url

    url = static_url("vendor/htmx-2.0.11.min.js")
    plain = (STATIC / "vendor" / "htmx-2.0.11.min.js").read_bytes()
    cases = {
        "gzip, deflate, br": ("br", brotli.decompress),
        "gzip": ("gzip", gzip.decompress),
        "br;q=0, gzip;q=0.5": ("gzip", gzip.decompress),
        "*": ("br", brotli.decompress),
        "identity": (None, bytes),
        "gzip;q=0, br;q=0": (None, bytes),
        "": (None, bytes),
        "ünïcödé;q=∞, \x00": (None, bytes),
    }
    for accept, (coding, decode) in cases.items():
        status, headers, body = _raw(client, url, **{"Accept-Encoding": accept})
        assert status == 200, accept
        assert headers.get("content-encoding") == coding, accept
        assert int(headers["content-length"]) == len(body)
        assert decode(body) == plain, accept
        assert "accept-encoding" in headers["vary"].lower()
        if coding:
            assert len(body) < len(plain) / 2


def test_plain_names_still_served_with_a_short_cache(client: TestClient) -> None:
    status, headers, body = _raw(client, "/static/css/app.css", **{"Accept-Encoding": "identity"})
    assert status == 200
    assert body == (STATIC / "css" / "app.css").read_bytes()
    assert headers["content-type"].startswith("text/css")
    assert "immutable" not in headers["cache-control"]
    assert headers["cache-control"].startswith("public, max-age=")
    assert int(headers["cache-control"].rsplit("=", 1)[1]) <= 3600


def test_a_stored_copy_is_revalidated_without_the_body(client: TestClient) -> None:
    first = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip"})
    again = client.get(
        "/static/css/app.css",
        headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304 and again.content == b""
    other = client.get(
        "/static/css/app.css",
        headers={"Accept-Encoding": "identity", "If-None-Match": first.headers["etag"]},
    )
    assert other.status_code == 200  # another encoding is another representation


def test_only_files_found_at_start_up_are_served(client: TestClient) -> None:
    from intake.static_assets import static_url

    hashed = static_url("css/app.css")
    wrong_hash = hashed.replace(hashed.rsplit(".", 2)[1], "0" * 16)
    for url in (
        wrong_hash,
        "/static/css/nothing.css",
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/css/",
        "/static/",
        "/static/ünï.css",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
    assert client.post(hashed).status_code == 405
    head = client.head(hashed, headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200 and head.content == b""
