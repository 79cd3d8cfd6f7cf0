"""The coordinator's figures: only reporting organisations, small counts hidden, audited."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit.models import AuditEvent
from intake.cases.service_records import ServiceRecord
from intake.config import Settings
from intake.db import new_id
from intake.statistics.figures import Figures, Filters, coordinator_figures
from tests.conftest import make_user

from .helpers import agree, cases

YEAR = dt.datetime(2025, 3, 14, 10, tzinfo=dt.UTC)


def _lines(figures: Figures, key: str) -> dict[str, tuple[int | None, bool]]:
    breakdown = next(b for b in figures.breakdowns if b.key == key)
    return {line.code: (line.count.value, line.count.small) for line in breakdown.lines}


def test_only_organisations_that_agreed_are_counted(
    db: Session,
    settings: Settings,
    body: Organisation,
    coordinator: User,
    org: Organisation,
    other_org: Organisation,
) -> None:
    cases(db, make_user(db, org, "outreach_worker"), 12, YEAR)
    cases(db, make_user(db, other_org, "outreach_worker"), 13, YEAR)
    before = coordinator_figures(db=db, user=coordinator, filters=Filters(), settings=settings)
    assert (before.organisations, before.cases.value, before.breakdowns) == (0, 0, ())
    agree(db, body, org)
    after = coordinator_figures(db=db, user=coordinator, filters=Filters(), settings=settings)
    assert (after.organisations, after.cases.value) == (1, 12)
    assert after.years == (2025,)
    assert _lines(after, "gender") == {"female": (12, False)}
    assert _lines(after, "age_band") == {"30-38": (12, False)}


def test_a_small_group_is_hidden_with_its_complement(
    db: Session, settings: Settings, body: Organisation, coordinator: User, org: Organisation
) -> None:
    worker = make_user(db, org, "outreach_worker")
    cases(db, worker, 12, YEAR, gender="female")
    cases(db, worker, 3, YEAR, gender="male", age=16, nationality="moldova")
    agree(db, body, org)
    shown = coordinator_figures(db=db, user=coordinator, filters=Filters(), settings=settings)
    assert shown.cases.value == 15
    # Three men: "< 11"; the twelve women hidden too, else 15 - 12 gives the three away.
    assert _lines(shown, "gender") == {"female": (None, False), "male": (None, True)}
    assert _lines(shown, "nationality") == {"moldova": (None, True), "ukraine": (None, False)}
    assert _lines(shown, "age_band") == {"30-38": (None, False), "9-17": (None, True)}
    one_year = coordinator_figures(
        db=db, user=coordinator, filters=Filters(year=2025), settings=settings
    )
    assert _lines(one_year, "gender") == _lines(shown, "gender")
    empty_year = coordinator_figures(
        db=db, user=coordinator, filters=Filters(year=2024), settings=settings
    )
    assert empty_year.cases.value == 0


def test_the_threshold_comes_from_the_settings(
    db: Session, settings: Settings, body: Organisation, coordinator: User, org: Organisation
) -> None:
    worker = make_user(db, org, "outreach_worker")
    cases(db, worker, 6, YEAR, gender="female")
    cases(db, worker, 5, YEAR, gender="male")
    agree(db, body, org)
    lower = settings.model_copy(update={"statistics_threshold": 5})
    shown = coordinator_figures(db=db, user=coordinator, filters=Filters(), settings=lower)
    assert _lines(shown, "gender") == {"female": (6, False), "male": (5, False)}
    default = coordinator_figures(db=db, user=coordinator, filters=Filters(), settings=settings)
    assert _lines(default, "gender") == {"female": (None, True), "male": (None, True)}
    assert default.cases.value == 11


def test_every_reading_is_audited(
    db: Session, settings: Settings, body: Organisation, coordinator: User, org: Organisation
) -> None:
    agree(db, body, org)
    coordinator_figures(db=db, user=coordinator, filters=Filters(year=2025), settings=settings)
    rows = db.execute(
        select(AuditEvent).where(
            AuditEvent.action == "statistics.viewed", AuditEvent.actor_id == coordinator.id
        )
    ).scalars()
    assert [row.detail for row in rows] == ["year=2025;organisations=1"]


def test_a_supervisor_sees_their_own_organisation_only(
    db: Session, settings: Settings, org: Organisation, other_org: Organisation
) -> None:
    cases(db, make_user(db, org, "outreach_worker"), 11, YEAR)
    cases(db, make_user(db, other_org, "outreach_worker"), 20, YEAR)
    supervisor = make_user(db, org, "supervisor")
    shown = coordinator_figures(db=db, user=supervisor, filters=Filters(), settings=settings)
    assert (shown.organisations, shown.cases.value) == (1, 11)
    admin = make_user(db, org, "admin")
    assert (
        coordinator_figures(db=db, user=admin, filters=Filters(), settings=settings).cases.value
        == 0
    )


def test_services_count_people_per_type(
    db: Session, settings: Settings, body: Organisation, coordinator: User, org: Organisation
) -> None:
    worker = make_user(db, org, "outreach_worker")
    opened = cases(db, worker, 14, YEAR)
    for n, case in enumerate(opened):
        for kind in ("meal", "meal", "shelter_night") if n < 12 else ("meal",):
            db.add(
                ServiceRecord(
                    case_id=case.id,
                    organisation_id=org.id,
                    track=case.track,
                    service_type=kind,
                    delivered_on=dt.date(2025, 6, 1 + n % 2),
                    quantity=1,
                    unit="meal",
                    provided_by="organisation",
                    recorded_by_id=worker.id,
                    client_id=new_id(),
                )
            )
    db.commit()
    agree(db, body, org)
    shown = coordinator_figures(db=db, user=coordinator, filters=Filters(), settings=settings)
    # People, not records: fourteen had meals (some twice), twelve a night of shelter.
    assert _lines(shown, "services") == {"meal": (14, False), "shelter_night": (12, False)}
    services = next(b for b in shown.breakdowns if b.key == "services")
    assert services.multiple
