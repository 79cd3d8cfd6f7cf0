"""How many bytes does a phone download to open the intake form for the first time?

Run from the repository root:  python bench/page_weight.py

It serves the real application (FastAPI TestClient, a throwaway SQLite file,
the shipped forms), signs a worker in, and opens the first-contact form as a
worker does: the start page, then the first page of questions. Every
stylesheet and script those pages link is fetched once (later pages reuse the
browser's cache). Each response body is gzipped at level 6, what a reverse
proxy typically sends; the budget is 50 KB (51 200 bytes) for the lot.
Figures go into bench/README.md.
"""

from __future__ import annotations

import base64
import gzip
import re
import sys
import tempfile
from pathlib import Path

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


def _gzipped(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=6))


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


def measure() -> list[tuple[str, int, int]]:
    """(what, raw bytes, gzipped bytes) for each download, in the order a phone makes them."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(_prepare(Path(folder)))
        with TestClient(app, base_url="http://testserver") as client:
            login = client.get("/login").text
            client.post(
                "/login",
                data={
                    "username": "bench.worker",
                    "password": PASSWORD,
                    "csrf_token": TOKEN.findall(login)[0],
                },
            )
            start = client.get("/forms/first_contact/new")
            first = client.post(
                "/forms/first_contact/new",
                data={
                    "csrf_token": TOKEN.findall(start.text)[0],
                    "client_id": CLIENT_ID.findall(start.text)[0],
                    "language": "en",
                },
            )
            assert first.status_code == 200 and "Page 1 of" in first.text, first.status_code
            rows = [
                ("start page (HTML)", start.content),
                ("first page of questions (HTML)", first.content),
            ]
            assets = dict.fromkeys(ASSET.findall(start.text) + ASSET.findall(first.text))
            for path in assets:
                rows.append((path, client.get(path).content))
    return [(what, len(body), _gzipped(body)) for what, body in rows]


def main() -> int:
    rows = measure()
    print("| download | bytes | gzipped |\n| --- | ---: | ---: |")
    for what, raw, packed in rows:
        print(f"| {what} | {raw:,} | {packed:,} |")
    raw_total, packed_total = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"| **total** | {raw_total:,} | **{packed_total:,}** |")
    verdict = "within" if packed_total <= BUDGET else "OVER"
    print(f"\n{packed_total / 1024:.1f} KB gzipped: {verdict} the {BUDGET // 1024} KB budget")
    print(f"Python {sys.version.split()[0]}")
    return 0 if packed_total <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
