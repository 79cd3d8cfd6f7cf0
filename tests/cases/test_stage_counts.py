"""The dashboard's maintained counts follow every change of a case in its own transaction,
and always equal a fresh count of the cases."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import stage_counts, stages
from intake.cases.models import Case
from intake.cases.rules import ConflictError
from tests.cases.helpers import open_case, publish_shipped
from tests.conftest import SEALING


@pytest.fixture(autouse=True)
def shipped_definitions(db: Session) -> None:
    publish_shipped(db)


def _kept(db: Session, user: User) -> dict[tuple[str, str, str], tuple[int, int]]:
    return dict(stage_counts.counts(db=db, organisation_id=user.organisation_id))


def _recounted(db: Session, user: User) -> dict[tuple[str, str, str], tuple[int, int]]:
    stage_counts.rebuild(db=db)
    return {k: v for k, v in _kept(db, user).items() if v != (0, 0)}


def _fire(db: Session, case: Case, user: User, trigger: str, reason: str | None = None) -> Case:
    stages.fire_transition(
        db=db,
        settings=SEALING,
        case=case,
        user=user,
        trigger=trigger,
        reason=reason,
        expected_row_version=case.row_version,
    )
    db.expire_all()
    found = db.get(Case, case.id)
    assert found is not None
    return found


def test_counts_follow_opening_moving_and_closing(
    db: Session, worker: User, supervisor: User
) -> None:
    first, second, third = (open_case(db, worker) for _ in range(3))
    version, track, start = first.workflow_version_id, first.track, first.state
    assert _kept(db, supervisor)[(version, track, start)] == (3, 0)
    second = _fire(db, second, supervisor, "record_lost_contact", "phone off")
    third = _fire(db, third, supervisor, "close", "duplicate")
    kept = {k: v for k, v in _kept(db, supervisor).items() if v != (0, 0)}
    assert kept[(version, track, start)] == (1, 0)
    assert kept[(version, track, second.state)] == (1, 0)
    assert kept[(version, track, third.state)] == (0, 1)
    assert kept == _recounted(db, supervisor)


def test_a_conflicting_change_moves_no_count(db: Session, worker: User, supervisor: User) -> None:
    case = open_case(db, worker)
    shown = case.row_version
    case = _fire(db, case, supervisor, "record_lost_contact", "phone off")
    before = _kept(db, supervisor)
    with pytest.raises(ConflictError):
        stages.fire_transition(
            db=db,
            settings=SEALING,
            case=case,
            user=supervisor,
            trigger="close",
            reason="duplicate",
            expected_row_version=shown,
        )
    assert _kept(db, supervisor) == before
    assert {k: v for k, v in before.items() if v != (0, 0)} == _recounted(db, supervisor)
