"""Two receiving supervisors accept one transfer at the same moment, on separate connections:
exactly one wins, the other is told "already answered", the case moves once.

Each backend gets a fresh database (the rolled-back test transaction is one connection).
"""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.engine import Engine

from intake.accounts import service as accounts
from intake.accounts.models import User
from intake.cases.models import Case, CaseHistory
from intake.db import make_session_factory, read_transaction, write_intent
from intake.referrals import transfers
from intake.referrals.common import AlreadyAnswered
from intake.referrals.models import Transfer
from tests.cases.helpers import open_case, publish_shipped
from tests.conftest import PASSWORD, SEALING
from tests.referrals.helpers import CONSENT, store
from tests.workflow.test_concurrency import fresh_engine as fresh_engine


def _user(db, org, role: str, name: str) -> User:  # type: ignore[no-untyped-def]
    user, _ = accounts.create_user(
        db=db, username=name, display_name=name, role=role, organisation=org, password=PASSWORD
    )
    return user


def test_two_accepts_at_once_exactly_one_wins(fresh_engine: Engine) -> None:
    factory = make_session_factory(fresh_engine)
    with factory() as db:
        publish_shipped(db)
        ngo = accounts.get_or_create_organisation(db=db, name="Race NGO")
        town = accounts.get_or_create_organisation(db=db, name="Race Town", kind="municipality")
        worker = _user(db, ngo, "outreach_worker", "race-worker")
        sender = _user(db, ngo, "supervisor", "race-sender")
        first, second = (
            _user(db, town, "supervisor", "race-one"),
            _user(db, town, "supervisor", "race-two"),
        )
        case = open_case(db, worker)
        store(db, SEALING, case, "consent", worker, CONSENT)
        offer = transfers.make_transfer(
            db=db, actor=sender, case_id=case.id, to_organisation_id=town.id
        )
        case_id, offer_id, ids = case.id, offer.id, (first.id, second.id)
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def accept(user_id: str) -> None:
        with factory() as db:
            with read_transaction(db):
                user = db.get(User, user_id)
                assert user is not None
            barrier.wait()
            write_intent.set(True)
            try:
                transfers.accept_transfer(
                    db=db, settings=SEALING, actor=user, transfer_id=offer_id, assignee_id=user_id
                )
                outcomes.append("won")
            except AlreadyAnswered:
                outcomes.append("already answered")

    threads = [threading.Thread(target=accept, args=(uid,)) for uid in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["already answered", "won"]
    with factory() as db:
        moved = db.get(Case, case_id)
        stored = db.get(Transfer, offer_id)
        assert moved is not None and stored is not None
        assert moved.organisation_id == stored.to_organisation_id
        assert moved.owner_id == stored.assignee_id == stored.answered_by_id
        rows = db.execute(
            select(CaseHistory).where(
                CaseHistory.case_id == case_id, CaseHistory.kind == "transferred"
            )
        ).all()
        assert len(rows) == 1
