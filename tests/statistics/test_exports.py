"""Exports: k-anonymous records in CTDC's layout, figures with their dictionary, CSV and
XLSX, re-authentication first, every export audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit.models import AuditEvent
from intake.db import utcnow
from intake.security.models import UserSession
from intake.statistics import exports_ctdc as ctdc
from tests.conftest import login, make_user

from .helpers import MARKER, agree, bulk_cases, person

K = 11
QUASI = ("yearOfRegistration", "gender", "ageBroad", "citizenship", "typeOfExploitConcatenated")
keys = st.tuples(
    st.sampled_from(["female", "male", "unknown"]),
    st.sampled_from(["0-8", "9-17", "18-20", "30-38", "48+", "unknown"]),
    st.sampled_from(["ukraine", "moldova", "vietnam", "unknown"]),
    st.sampled_from(["labour", "sexual", "labour;sexual", "unknown"]),
    st.sampled_from([2024, 2025]),
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(counts=st.dictionaries(keys, st.integers(1, 25), max_size=30), k=st.sampled_from([5, 11]))
def test_every_released_combination_holds_k_people(counts: dict, k: int) -> None:
    chosen = ctdc.plan(Counter(counts), k)
    released: Counter[ctdc.Key] = Counter()
    for key, n in counts.items():
        level = chosen.levels[key]
        if level < ctdc.SUPPRESSED:
            released[ctdc.LEVELS[level](key)] += n
    assert all(n >= k for n in released.values())
    assert chosen.released + chosen.suppressed == sum(counts.values())
    assert chosen.released == sum(released.values())
    # Nothing is generalised or left out that did not need to be.
    for key, n in counts.items():
        if n >= k:
            assert chosen.levels[key] == 0


def _world(db: Session, body: Organisation, org: Organisation) -> None:
    worker = make_user(db, org, "outreach_worker")
    at = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
    rows = [(at, person("female", 30, "ukraine", ("labour",)))] * 12
    rows += [(at, person("female", 19, "ukraine", ("labour",)))] * 6
    rows += [(at, person("female", 22, "ukraine", ("labour",)))] * 6
    rows += [(at, person("male", 40, "vietnam", ("sexual",)))] * 2
    bulk_cases(db, worker, rows)
    agree(db, body, org)


def test_the_record_export_is_k_anonymous_in_ctdc_layout(
    client: TestClient, db: Session, body: Organisation, coordinator: User, org: Organisation
) -> None:
    _world(db, body, org)
    login(client, coordinator.username)
    page = client.get("/statistics/exports")
    assert page.status_code == 200
    assert 'id="plan-suppressed">2<' in page.text.replace(" ", "")
    looked = db.execute(
        select(AuditEvent.detail).where(
            AuditEvent.action == "statistics.viewed", AuditEvent.actor_id == coordinator.id
        )
    ).scalars()
    assert list(looked) == ["exports;organisations=1"]
    response = client.get("/statistics/exports/records", params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    assert MARKER not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0].keys()) == ctdc.COLUMNS
    assert len(rows) == 24
    combos = Counter(tuple(row[q] for q in QUASI) for row in rows)
    assert min(combos.values()) >= K
    # The two groups of six (ages 19 and 22) are generalised into one adult group of twelve.
    assert combos[("2025", "Female", "18+", "UA", "labour")] == 12
    assert combos[("2025", "Female", "30-38", "UA", "labour")] == 12
    assert {row["isForcedLabour"] for row in rows} == {"1"}
    event = db.execute(
        select(AuditEvent).where(AuditEvent.action == "statistics.exported")
    ).scalar_one()
    assert (event.actor_id, event.detail) == (
        coordinator.id,
        "records.csv;rows=24;generalised=12;suppressed=2",
    )


def test_xlsx_exports_carry_their_dictionary(
    client: TestClient, db: Session, body: Organisation, coordinator: User, org: Organisation
) -> None:
    _world(db, body, org)
    login(client, coordinator.username)
    records = client.get("/statistics/exports/records", params={"format": "xlsx"})
    assert records.status_code == 200
    book = load_workbook(io.BytesIO(records.content), read_only=True)
    assert book.sheetnames == ["Records", "Data dictionary", "About this file"]
    header = next(book["Records"].iter_rows(values_only=True))
    assert header == ctdc.COLUMNS
    described = {row[0] for row in book["Data dictionary"].iter_rows(min_row=2, values_only=True)}
    assert described == set(ctdc.COLUMNS)
    figures = client.get("/statistics/exports/figures", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(figures.content), read_only=True)["Figures"]
    lines = {(r[0], r[1]): r[3] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert lines[("gender", "male")] == "< 11"
    assert lines[("cases", None)] == 26  # an empty cell reads back as None
    actions = Counter(
        db.execute(select(AuditEvent.detail).where(AuditEvent.action == "statistics.exported"))
        .scalars()
        .all()
    )
    assert sum(actions.values()) == 2


def test_an_export_needs_a_recent_sign_in_and_a_known_format(
    client: TestClient, db: Session, body: Organisation, coordinator: User, org: Organisation
) -> None:
    _world(db, body, org)
    login(client, coordinator.username)
    bad = client.get("/statistics/exports/records", params={"format": "exe"})
    assert bad.status_code == 422 and "Choose CSV or XLSX." in bad.text
    db.execute(
        update(UserSession)
        .where(UserSession.user_id == coordinator.id)
        .values(created_at=utcnow() - dt.timedelta(minutes=10))
    )
    db.commit()
    stale = client.get("/statistics/exports/records", params={"format": "csv"})
    assert stale.status_code == 303
    assert stale.headers["location"].startswith("/account/reauth?next=%2Fstatistics%2Fexports")
    assert (
        db.execute(select(AuditEvent).where(AuditEvent.action == "statistics.exported")).first()
        is None
    )


def test_a_supervisor_exports_their_own_organisation_only(
    client: TestClient, db: Session, org: Organisation, other_org: Organisation
) -> None:
    at = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
    bulk_cases(db, make_user(db, org, "outreach_worker"), [(at, person())] * 11)
    bulk_cases(db, make_user(db, other_org, "outreach_worker"), [(at, person())] * 30)
    supervisor = make_user(db, org, "supervisor")
    login(client, supervisor.username)
    response = client.get("/statistics/exports/records", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 11
    worker = make_user(db, org, "outreach_worker", "w-export")
    other = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    login(other, worker.username)
    assert other.get("/statistics/exports/records").status_code == 403
