"""Retention anonymises exactly what it should, on both databases; a dry run changes nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from intake.accounts import service as accounts
from intake.accounts.models import Organisation, User
from intake.audit.models import AuditEvent
from intake.cases import dashboard, notes
from intake.config import Settings
from intake.db import utcnow
from intake.filling import service as filling
from intake.filling.models import Submission
from intake.overlap.models import CaseFingerprint, OverlapMatch
from intake.retention import service as retention
from intake.retention.models import CaseStatistics
from tests.cases.helpers import open_case, reload
from tests.conftest import make_user

from .helpers import CANARY, closed_case_with_canaries, every_text, link_overlap, person

LATER = utcnow() + dt.timedelta(days=365 * 5 + 30)


def test_retention_erases_every_answer_note_and_reason_and_keeps_the_statistics(
    db: Session,
    connection: Connection,
    settings: Settings,
    org: Organisation,
    other_org: Organisation,
    worker: User,
    supervisor: User,
) -> None:
    due = closed_case_with_canaries(db, settings, worker, supervisor)
    # An open case, and a closed one of an organisation that keeps cases for ten years.
    still_open = open_case(db, worker)
    notes.add_note(db=db, settings=settings, actor=supervisor, case=still_open, text="Kept A")
    other_org.retention_years = 10
    db.commit()
    other_worker = make_user(db, other_org, "outreach_worker", "other.worker")
    other_supervisor = make_user(db, other_org, "supervisor", "other.supervisor")
    kept = closed_case_with_canaries(db, settings, other_worker, other_supervisor, canary="Kept-B")
    link_overlap(db, due, kept)
    assert CANARY in every_text(connection, settings)
    before = dashboard.dashboard(db=db, user=supervisor, now=LATER, timezone="UTC")
    before_other = dashboard.dashboard(db=db, user=other_supervisor, now=LATER, timezone="UTC")

    report = retention.run(db=db, settings=settings, now=LATER)

    assert (report.due, report.anonymised) == (1, 1)
    assert CANARY not in every_text(connection, settings)
    assert CANARY.lower() not in every_text(connection, settings).lower()
    # The dashboard's figures are those of before, for both organisations.
    assert dashboard.dashboard(db=db, user=supervisor, now=LATER, timezone="UTC") == before
    assert (
        dashboard.dashboard(db=db, user=other_supervisor, now=LATER, timezone="UTC") == before_other
    )
    stats = db.get(CaseStatistics, due.id)
    assert stats is not None
    assert (stats.year, stats.age_band, stats.gender, stats.nationality) == (
        due.created_at.year,
        "25-34",
        "female",
        "other",
    )
    assert reload(db, due).anonymised_at is not None and reload(db, due).fingerprint is None
    assert not db.execute(select(CaseFingerprint).where(CaseFingerprint.case_id == due.id)).all()
    assert not db.execute(select(OverlapMatch)).all()
    [event] = db.execute(
        select(AuditEvent).where(
            AuditEvent.action == "case.anonymised", AuditEvent.object_id == due.id
        )
    ).scalars()
    assert event.detail == "retention" and event.actor_id is None

    # What was not due is whole: its notes and answers still read.
    assert [n.text for n in notes.notes_of(db=db, settings=settings, case=still_open)] == ["Kept A"]
    [kept_filling] = db.execute(select(Submission).where(Submission.case_id == kept.id)).scalars()
    assert filling.submission_answers(db=db, settings=settings, submission=kept_filling) == (
        person("Kept-B")
    )
    # Run again: nothing more is due.
    assert retention.run(db=db, settings=settings, now=LATER).due == 0


def test_a_dry_run_changes_nothing(
    db: Session,
    connection: Connection,
    settings: Settings,
    worker: User,
    supervisor: User,
) -> None:
    due = closed_case_with_canaries(db, settings, worker, supervisor)
    before = every_text(connection, settings)

    report = retention.run(db=db, settings=settings, now=LATER, dry_run=True)

    assert (report.due, report.anonymised, report.dry_run) == (1, 0, True)
    assert every_text(connection, settings) == before
    assert reload(db, due).anonymised_at is None
    # Not yet due today: five years have not passed.
    assert retention.run(db=db, settings=settings).due == 0


def test_the_period_is_per_organisation(
    db: Session, settings: Settings, org: Organisation, worker: User, supervisor: User
) -> None:
    closed_case_with_canaries(db, settings, worker, supervisor)
    assert org.retention_years == 5
    admin = make_user(db, org, "admin")
    retention.set_retention_years(db=db, actor=admin, years=6)
    assert retention.due_cases(db=db, now=LATER) == []
    retention.set_retention_years(db=db, actor=admin, years=1)
    assert len(retention.due_cases(db=db, now=LATER)) == 1
    assert accounts.get_or_create_organisation(db=db, name="Org A").retention_years == 1


def test_age_bands_are_coarse() -> None:
    assert [retention.age_band(a) for a in (0, 13, 14, 17, 18, 30, 49, 50, 90)] == [
        "0-13",
        "0-13",
        "14-17",
        "14-17",
        "18-24",
        "25-34",
        "35-49",
        "50+",
        "50+",
    ]
    assert retention.age_band(None) == "" and retention.age_band(True) == ""
