"""Free text about the person rests sealed and reaches only those with need to know.

Reasons written on the history (closing early, lost contact, a track change) and free-text
answers such as "Which nationality?" (the "other" box) are sealed like a name, and shown
only to the case's team and its organisation's supervisors.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases import rules
from intake.cases.models import Case, CaseHistory
from intake.cases.reasons import open_reason
from intake.config import Settings
from intake.db import utcnow
from intake.filling import service as filling
from intake.keys.clear_text import seal_clear_values
from tests.conftest import login, make_user, page_token
from tests.retention.helpers import every_text

from .flow import WOMAN, record_person, soup
from .helpers import assign, open_case, publish_shipped, submit

OTHER_NATIONALITY = "Canary-Atlantis-5512"
CLOSE_REASON = "Canary moved in with her aunt at Žirmūnų 12"


def _switch(client: TestClient, user: User) -> None:
    client.cookies.clear()
    login(client, user.username)


def test_reasons_and_other_answers_rest_sealed_and_reach_only_the_team_and_supervisors(
    db: Session,
    client: TestClient,
    connection: Connection,
    settings: Settings,
    org: Organisation,
    worker: User,
    supervisor: User,
) -> None:
    login(client, worker.username)
    person = {**WOMAN, "nationality": "other", "nationality_other": OTHER_NATIONALITY}
    assert record_person(client, person).status_code == 303
    case = db.execute(select(Case)).scalar_one()
    colleague = make_user(db, org, "outreach_worker", "colleague")
    assign(db, supervisor, case, colleague, "social_worker")

    _switch(client, supervisor)
    path = f"/cases/{case.id}"
    closed = client.post(
        f"{path}/transitions",
        data={
            "csrf_token": page_token(client, path),
            "row_version": str(db.get(Case, case.id).row_version),  # type: ignore[union-attr]
            "trigger": "close",
            "reason": CLOSE_REASON,
        },
    )
    assert closed.status_code == 303, closed.text

    # At rest: neither text is anywhere in the database in the clear ...
    raw = every_text(connection)
    assert OTHER_NATIONALITY not in raw and "Žirmūnų" not in raw
    # ... and both are there, sealed, for whoever holds the data keys.
    opened = every_text(connection, settings)
    assert OTHER_NATIONALITY in opened and CLOSE_REASON in opened

    for reader in (supervisor, colleague):
        _switch(client, reader)
        page = client.get(path).text
        assert OTHER_NATIONALITY in page, reader.username
        reasons = [q.get_text() for q in soup(page).select(".timeline .reason")]
        assert CLOSE_REASON in reasons, reader.username

    # The owner who is not on the team keeps the case in their list, not these words.
    _switch(client, worker)
    page = client.get(path).text
    assert client.get(path).status_code == 200
    assert OTHER_NATIONALITY not in page and "Žirmūnų" not in page
    assert soup(page).select(".timeline .reason") == []


def test_values_written_in_the_clear_by_an_older_version_are_sealed_once(
    db: Session,
    connection: Connection,
    settings: Settings,
    worker: User,
    supervisor: User,
) -> None:
    publish_shipped(db)
    case = open_case(db, worker)
    # As an older version stored them: a free-text answer and a reason in the clear.
    old = submit(db, case, "first_contact", worker, {"nationality_other": OTHER_NATIONALITY})
    rules.append_history(db=db, case=case, actor=supervisor, kind="transition", at=utcnow())
    db.flush()
    row = db.execute(select(CaseHistory).order_by(CaseHistory.id.desc())).scalars().first()
    assert row is not None
    row.reason = CLOSE_REASON
    db.commit()
    assert OTHER_NATIONALITY in every_text(connection)
    # Read as they are meanwhile, so nothing breaks before the sealing runs.
    assert open_reason(settings=settings, row=row) == CLOSE_REASON

    changed = seal_clear_values(conn=db.connection(), settings=settings)
    db.commit()

    assert changed["submissions"] == 1 and changed["case_history"] == 1
    raw = every_text(connection)
    assert OTHER_NATIONALITY not in raw and "Žirmūnų" not in raw
    db.expire_all()
    answers = filling.submission_answers(
        db=db, settings=settings, submission=db.get(type(old), old.id)
    )
    assert answers["nationality_other"] == OTHER_NATIONALITY
    assert open_reason(settings=settings, row=db.get(CaseHistory, row.id)) == CLOSE_REASON
    # A second run finds nothing left in the clear.
    assert sum(seal_clear_values(conn=db.connection(), settings=settings).values()) == 0
