"""How many bytes does a phone download to open the intake form for the first time?

Run from the repository root:  python bench/page_weight.py

It serves the real application (FastAPI TestClient, a throwaway SQLite file,
the shipped forms), signs a worker in, and opens the first-contact form as a
worker does: the start page, then the first page of questions. Every
stylesheet and script those pages link is fetched once (later pages reuse the
browser's cache). The bytes counted are those the application sends on the
wire, as a phone asks for them (`Sec-Fetch-Site: same-origin`): once with
`Accept-Encoding: identity`, once with `gzip`, once with `br`. The budget is
50 KB (51 200 bytes) gzipped for the lot. Figures go into bench/README.md.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import brotli
from fastapi.testclient import TestClient

from intake import migrate
from intake.accounts import service as accounts
from intake.app import create_app
from intake.config import Settings
from intake.db import make_engine, make_session_factory
from intake.definitions import service as definitions

BUDGET = 50 * 1024
PASSWORD = "a long bench password, never used elsewhere"
ASSET = re.compile(r'<(?:link[^>]+href|script[^>]+src)="(/static/[^"]+)"')
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
CLIENT_ID = re.compile(r'name="client_id" value="([^"]+)"')


CODINGS = ("identity", "gzip", "br")
_DECODE = {"identity": bytes, "gzip": gzip.decompress, "br": brotli.decompress}


def _fetch(client: TestClient, method: str, url: str, **kwargs: Any) -> tuple[str, int]:
    """The page's text and the bytes that crossed the wire for it."""
    with client.stream(method, url, **kwargs) as response:
        assert response.status_code == 200, (url, response.status_code)
        wire = b"".join(response.iter_raw())
        coding = response.headers.get("content-encoding", "identity")
        return _DECODE[coding](wire).decode(), len(wire)


def _prepare(var_dir: Path) -> Settings:
    url = f"sqlite:///{var_dir / 'bench.sqlite3'}"
    settings = Settings(
        var_dir=var_dir,
        database_url=url,
        secret_key="bench-" + "x" * 40,
        data_keys="b1:" + base64.b64encode(b"b" * 32).decode(),
    )
    migrate.upgrade(url=url)
    with make_session_factory(make_engine(url))() as db:
        organisation = accounts.get_or_create_organisation(db=db, name="Bench NGO")
        accounts.create_user(
            db=db,
            username="bench.worker",
            display_name="Bench",
            role="outreach_worker",
            organisation=organisation,
            password=PASSWORD,
        )
        definitions.sync_files(db=db)
    return settings


def _open_the_form(client: TestClient) -> list[tuple[str, int]]:
    """(what, bytes on the wire) for each download, in the order a phone makes them."""
    login, _ = _fetch(client, "GET", "/login")
    client.post(
        "/login",
        data={
            "username": "bench.worker",
            "password": PASSWORD,
            "csrf_token": TOKEN.findall(login)[0],
        },
    )
    start, start_bytes = _fetch(client, "GET", "/forms/first_contact/new")
    data = {
        "csrf_token": TOKEN.findall(start)[0],
        "client_id": CLIENT_ID.findall(start)[0],
        "language": "en",
    }
    first, first_bytes = _fetch(client, "POST", "/forms/first_contact/new", data=data)
    assert "Page 1 of" in first
    rows = [("start page (HTML)", start_bytes), ("first page of questions (HTML)", first_bytes)]
    for path in dict.fromkeys(ASSET.findall(start) + ASSET.findall(first)):
        rows.append((path, _fetch(client, "GET", path)[1]))
    return rows


def _after_the_first_page(client: TestClient) -> list[tuple[str, int]]:
    """What a phone fetches once the first page is usable: the service worker, its
    precache, and the filling's page kept for going on without a connection."""
    worker, worker_bytes = _fetch(client, "GET", "/sw.js")
    config = json.loads(worker.split("\n", 1)[0].removeprefix("var INTAKE_PRECACHE = ")[:-1])
    rows = [("/sw.js", worker_bytes)]
    for path in config["assets"]:
        rows.append((path, _fetch(client, "GET", path)[1]))
    start, _ = _fetch(client, "GET", "/forms/first_contact/new")
    data = {
        "csrf_token": TOKEN.findall(start)[0],
        "client_id": CLIENT_ID.findall(start)[0],
        "language": "en",
    }
    _fetch(client, "POST", "/forms/first_contact/new", data=data)
    offline = f"/fill/{data['client_id']}/offline"
    rows.append(
        ("the filling's offline page (HTML, once per filling)", _fetch(client, "GET", offline)[1])
    )
    rows.append(("the outbox page (HTML)", _fetch(client, "GET", "/outbox")[1]))
    return rows


def measure_precache() -> list[tuple[str, int]]:
    """(what, bytes gzipped) fetched in the background after the first page."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(_prepare(Path(folder)))
        with TestClient(app, base_url="http://testserver") as client:
            client.headers["Accept-Encoding"] = "gzip"
            client.headers["Sec-Fetch-Site"] = "same-origin"
            _open_the_form(client)
            return _after_the_first_page(client)


def measure() -> list[tuple[str, int, int, int]]:
    """(what, bytes as identity, as gzip, as br) for each download."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(_prepare(Path(folder)))
        columns = []
        for coding in CODINGS:
            with TestClient(app, base_url="http://testserver") as client:
                client.headers["Accept-Encoding"] = coding
                client.headers["Sec-Fetch-Site"] = "same-origin"
                columns.append(_open_the_form(client))
    return [
        (what, plain, packed, br)
        for (what, plain), (_, packed), (_, br) in zip(*columns, strict=True)
    ]


def main() -> int:
    rows = measure()
    print("| download | identity | gzip | br |\n| --- | ---: | ---: | ---: |")
    for what, raw, packed, br in rows:
        print(f"| {what} | {raw:,} | {packed:,} | {br:,} |")
    raw_total, packed_total = sum(r[1] for r in rows), sum(r[2] for r in rows)
    br_total = sum(r[3] for r in rows)
    print(f"| **total** | {raw_total:,} | **{packed_total:,}** | **{br_total:,}** |")
    verdict = "within" if packed_total <= BUDGET else "OVER"
    print(f"\n{packed_total / 1024:.1f} KB gzipped: {verdict} the {BUDGET // 1024} KB budget")
    print("\nAfter the first page is usable (gzip; the service worker's precache):")
    print("| download | gzip |\n| --- | ---: |")
    later = measure_precache()
    for what, packed in later:
        print(f"| {what} | {packed:,} |")
    print(f"| **total** | **{sum(p for _, p in later):,}** |")
    print(f"Python {sys.version.split()[0]}")
    return 0 if packed_total <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
