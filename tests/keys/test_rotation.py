"""Key rotation: every sealed value moves to the first key, resumably, and still reads the same."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from intake.accounts import mfa
from intake.accounts.mfa_models import SignInChallenge
from intake.accounts.models import User
from intake.cases import notes, rules
from intake.cases.reasons import open_reason
from intake.config import Settings
from intake.db import utcnow
from intake.definitions import service as definitions
from intake.filling import service as filling
from intake.filling.models import FormDraft, Submission
from intake.forms.storage import keyring_for, seal, unseal
from intake.keys import rotation
from intake.security.field_crypto import Keyring, encrypt_value
from tests.cases.helpers import open_case, publish_shipped, submit
from tests.conftest import make_settings

OLD = "t1:" + base64.b64encode(b"k" * 32).decode()
NEW = "t2:" + base64.b64encode(b"n" * 32).decode()
PERSON = {"given_name": "Ona", "family_name": "Petraitė", "gender": "female"}


@pytest.fixture
def rotated_settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "var2", database_url, data_keys=f"{NEW},{OLD}")


def text_values(connection: Connection) -> list[str]:
    """Every value of every column of every table, as text."""
    found: list[str] = []
    for table in inspect(connection).get_table_names():
        if table == "alembic_version":
            continue
        for row in connection.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
            found.extend(str(value) for value in row if value is not None)
    return found


def _sealed_everywhere(db: Session, settings: Settings, worker: User, supervisor: User) -> dict:
    publish_shipped(db)
    case = open_case(db, worker)
    version = definitions.latest(db=db, kind="form", key="first_contact")
    assert version is not None
    form = definitions.compiled_form(version)
    submissions = []
    for _ in range(3):
        row = submit(db, case, "first_contact", worker)
        row.answers = seal(settings=settings, form=form, answers=PERSON, row=f"submission:{row.id}")
        submissions.append(row)
    draft = FormDraft(
        client_id="draft-client",
        form_version_id=version.id,
        form_key=version.key,
        owner_id=worker.id,
        organisation_id=worker.organisation_id,
        content_language="en",
    )
    db.add(draft)
    db.flush()
    draft.answers = seal(settings=settings, form=form, answers=PERSON, row=f"draft:{draft.id}")
    note = notes.add_note(
        db=db, settings=settings, actor=supervisor, case=case, text="Sleeps at the station"
    )
    reason = rules.append_history(
        db=db,
        case=case,
        actor=supervisor,
        kind="transition",
        at=utcnow(),
        settings=settings,
        reason="Left for Riga with her aunt",
    )
    keyring = keyring_for(settings)
    supervisor.totp_secret = encrypt_value(
        keyring=keyring, value="SECRETSECRET", context=mfa.secret_context(supervisor.id)
    )
    supervisor.totp_pending_secret = encrypt_value(
        keyring=keyring, value="PENDINGPENDING", context=mfa.pending_context(supervisor.id)
    )
    db.add(
        SignInChallenge(
            token_hash="h" * 64,
            user_id=worker.id,
            created_at=utcnow(),
            expires_at=utcnow(),
            enrol_secret=encrypt_value(
                keyring=keyring, value="ENROLENROL", context=mfa.challenge_context("h" * 64)
            ),
        )
    )
    db.commit()
    return {
        "case": case,
        "form": form,
        "submissions": submissions,
        "draft": draft,
        "note": note,
        "reason": reason,
    }


def _reads_the_same(db: Session, settings: Settings, made: dict, supervisor: User) -> None:
    for row in made["submissions"]:
        db.refresh(row)
        assert filling.submission_answers(db=db, settings=settings, submission=row) == PERSON
    draft = made["draft"]
    db.refresh(draft)
    assert (
        unseal(settings=settings, form=made["form"], stored=draft.answers, row=f"draft:{draft.id}")
        == PERSON
    )
    [note] = notes.notes_of(db=db, settings=settings, case=made["case"])
    assert note.text == "Sleeps at the station"
    db.refresh(made["reason"])
    assert open_reason(settings=settings, row=made["reason"]) == "Left for Riga with her aunt"
    db.refresh(supervisor)
    keyring = keyring_for(settings)
    assert mfa._unseal(settings, supervisor.totp_secret, mfa.secret_context(supervisor.id)) == (
        "SECRETSECRET"
    )
    assert (
        mfa._unseal(settings, supervisor.totp_pending_secret, mfa.pending_context(supervisor.id))
        == "PENDINGPENDING"
    )
    challenge = db.get(SignInChallenge, "h" * 64)
    assert challenge is not None and challenge.enrol_secret
    assert keyring.active == "t2"


def test_rotation_leaves_no_value_under_the_old_key_and_everything_reads_the_same(
    db: Session,
    connection: Connection,
    settings: Settings,
    rotated_settings: Settings,
    worker: User,
    supervisor: User,
) -> None:
    made = _sealed_everywhere(db, settings, worker, supervisor)
    assert any("v1:t1:" in value for value in text_values(connection))
    keyring = keyring_for(rotated_settings)
    before = rotation.report(db=db, keyring=keyring)
    # Two sensitive answers in each of 3 submissions and a draft, a note, a reason, two TOTP
    # secrets, an enrolment secret.
    assert before.still_sealing["t1"] == 2 * 4 + 1 + 1 + 2 + 1 and before.removable == []

    done = rotation.rotate(db=db, keyring=keyring, batch_size=2)

    assert done.progress.complete and done.removable == ["t1"]
    assert not [value for value in text_values(connection) if "v1:t1:" in value]
    # Without the old key at all, every value still opens, bound to its own row and field.
    only_new = make_settings(rotated_settings.var_dir, "sqlite://", data_keys=NEW)
    _reads_the_same(db, only_new, made, supervisor)
    # Done twice, nothing changes: values under the active key are skipped.
    again = rotation.rotate(db=db, keyring=keyring)
    assert sum(again.progress.reencrypted.values()) == 0


def test_an_interrupted_rotation_resumes_and_finishes(
    db: Session, settings: Settings, rotated_settings: Settings, worker: User, supervisor: User
) -> None:
    made = _sealed_everywhere(db, settings, worker, supervisor)
    keyring = keyring_for(rotated_settings)

    stopped = rotation.rotate(db=db, keyring=keyring, batch_size=2, max_batches=1)
    assert not stopped.progress.complete
    assert sum(stopped.progress.reencrypted.values()) == 2
    assert stopped.still_sealing["t1"] == 13 - 2 * 2 and stopped.removable == []
    # Half-rotated, everything still reads with both keys.
    _reads_the_same(db, rotated_settings, made, supervisor)

    resumed = rotation.rotate(db=db, keyring=keyring, batch_size=2)
    assert resumed.progress.complete and resumed.removable == ["t1"]
    # The rows left: one submission, the draft, the reason, the note, two user columns, the
    # challenge.
    assert sum(resumed.progress.reencrypted.values()) == 7
    only_new = make_settings(rotated_settings.var_dir, "sqlite://", data_keys=NEW)
    _reads_the_same(db, only_new, made, supervisor)


def test_a_token_moved_to_another_row_is_not_laundered_by_rotation(
    db: Session, settings: Settings, rotated_settings: Settings, worker: User, supervisor: User
) -> None:
    made = _sealed_everywhere(db, settings, worker, supervisor)
    first, second = made["submissions"][:2]
    moved = dict(second.answers)
    moved["given_name"] = first.answers["given_name"]
    db.execute(
        Submission.__table__.update().where(Submission.id == second.id).values(answers=moved)
    )
    db.commit()

    done = rotation.rotate(db=db, keyring=keyring_for(rotated_settings))

    assert done.progress.unreadable["submissions"] == 1
    assert done.still_sealing["t1"] == 1 and done.removable == []
    stored = db.execute(select(Submission.answers).where(Submission.id == second.id)).scalar_one()
    assert stored["given_name"].startswith("v1:t1:")


def test_a_keyring_lists_its_keys_without_showing_them() -> None:
    keyring = Keyring.from_config(f"{NEW},{OLD}")
    assert keyring.active == "t2" and "bmFu" not in repr(keyring)
