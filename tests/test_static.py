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
        assert url.startswith("/static/"), url
        assert client.get(url).status_code == 200
    assert soup.find("script", src=False) is None  # no inline script
    assert soup.find(style=True) is None  # no inline style
    config = json.loads(soup.find("meta", {"name": "htmx-config"})["content"])
    assert config["allowEval"] is False
    assert config["selfRequestsOnly"] is True
    assert config["historyCacheSize"] == 0
    assert config["includeIndicatorStyles"] is False
