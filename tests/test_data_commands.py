"""The operator's data commands: `intake backup FILE`, `intake restore FILE [--force]` and
`intake users reset-mfa NAME`, through the functions they call and, where the command is
registered, as an operator runs them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select, text

from intake import backup, cli, migrate
from intake.accounts import mfa
from intake.accounts import service as accounts
from intake.accounts.mfa_models import RecoveryCode
from intake.audit import service as audit
from intake.audit.models import AuditEvent
from intake.db import make_engine, make_session_factory, write_transaction
from intake.security import sessions
from intake.security.field_crypto import Keyring, decrypt_value, encrypt_value
from intake.security.models import UserSession
from tests.conftest import make_settings
from tests.keys.test_cli import _run
from tests.keys.test_rotation import OLD

KEYRING = Keyring.from_config(OLD)


def _seeded(tmp_path: Path, name: str) -> str:
    """A database with an organisation, a supervisor with a sealed TOTP secret, audit rows."""
    url = f"sqlite:///{tmp_path / name}"
    migrate.upgrade(url=url)
    engine = make_engine(url)
    with make_session_factory(engine)() as db:
        org = accounts.get_or_create_organisation(db=db, name="Org")
        user, _secret = accounts.create_user(
            db=db,
            username="sup",
            display_name="Sup",
            role="supervisor",
            organisation=org,
            password=None,
        )
        with write_transaction(db):
            row = db.get(type(user), user.id)
            assert row is not None
            row.totp_secret = encrypt_value(
                keyring=KEYRING, value="SECRET", context=mfa.secret_context(user.id)
            )
            db.add(RecoveryCode(user_id=user.id, code_hash="0" * 64))
            audit.record(db=db, action="test.seeded")
    engine.dispose()
    return url


def _rows(path: Path, query: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def test_backup_then_restore_into_an_empty_database_keeps_sealed_values(tmp_path: Path) -> None:
    url = _seeded(tmp_path, "live.sqlite3")
    report = backup.backup(database_url=url, target=tmp_path / "copy.sqlite3")
    assert report.audit_events >= 2 and report.tables > 5
    # The copy holds no secret in the clear: only sealed values.
    [(user_id, token)] = _rows(tmp_path / "copy.sqlite3", "SELECT id, totp_secret FROM users")
    assert "SECRET" not in token

    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    assert backup.restore(database_url=fresh, source=tmp_path / "copy.sqlite3") == report
    [(restored,)] = _rows(tmp_path / "fresh.sqlite3", "SELECT totp_secret FROM users")
    # With the data keys (kept apart from the backup) the value opens; without, nothing does.
    assert decrypt_value(keyring=KEYRING, token=restored, context=mfa.secret_context(user_id)) == (
        "SECRET"
    )


def test_restore_refuses_a_non_empty_database_without_force_and_a_file_that_is_no_backup(
    tmp_path: Path,
) -> None:
    url = _seeded(tmp_path, "live.sqlite3")
    backup.backup(database_url=url, target=tmp_path / "copy.sqlite3")
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(database_url=url, source=tmp_path / "copy.sqlite3")
    assert backup.restore(database_url=url, source=tmp_path / "copy.sqlite3", force=True)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all")
    with pytest.raises(backup.BackupError):
        backup.restore(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}", source=junk)
    with pytest.raises(backup.BackupError):
        backup.restore(
            database_url=f"sqlite:///{tmp_path / 'y.sqlite3'}", source=tmp_path / "missing"
        )


def test_reset_mfa_clears_the_factor_ends_sessions_and_is_audited(tmp_path: Path) -> None:
    url = _seeded(tmp_path, "live.sqlite3")
    engine = make_engine(url)
    with make_session_factory(engine)() as db:
        user = accounts.find_user_by_name(db=db, username="sup")
        assert user is not None
        settings = make_settings(tmp_path / "var", url)
        with write_transaction(db):
            sessions.start_session(db=db, user=user, settings=settings)
        mfa.reset(db=db, actor=None, user=user)
        db.expire_all()
        user = accounts.find_user_by_name(db=db, username="sup")
        assert user is not None and user.totp_secret is None
        assert not db.execute(select(RecoveryCode)).all()
        assert not db.execute(select(UserSession).where(UserSession.user_id == user.id)).all()
        [event] = db.execute(
            select(AuditEvent).where(AuditEvent.action == "user.mfa_reset")
        ).scalars()
        assert event.actor_id is None and event.object_id == user.id
        assert db.execute(text("SELECT count(*) FROM audit_events")).scalar_one() >= 2
    engine.dispose()


needs_commands = pytest.mark.skipif(
    not all(hasattr(cli, n) for n in ("cmd_backup", "cmd_restore", "cmd_users_reset_mfa")),
    reason="the backup, restore and reset-mfa commands are not registered in this checkout",
)


@needs_commands
def test_the_commands_as_an_operator_runs_them(tmp_path: Path) -> None:
    assert _run(tmp_path, OLD, "db", "upgrade").returncode == 0
    assert _run(tmp_path, OLD, "users", "create", "sup", "--role", "supervisor", "--org", "O")
    made = _run(tmp_path, OLD, "backup", str(tmp_path / "b.sqlite3"))
    assert made.returncode == 0, made.stderr
    assert "useless without them" in made.stdout
    again = _run(tmp_path, OLD, "backup", str(tmp_path / "b.sqlite3"))
    assert again.returncode == 1 and "refused" in again.stderr
    refused = _run(tmp_path, OLD, "restore", str(tmp_path / "b.sqlite3"))
    assert refused.returncode == 1 and "not empty" in refused.stderr
    forced = _run(tmp_path, OLD, "restore", str(tmp_path / "b.sqlite3"), "--force")
    assert forced.returncode == 0 and "audit chain intact" in forced.stdout, forced.stderr
    reset = _run(tmp_path, OLD, "users", "reset-mfa", "sup")
    assert reset.returncode == 0 and "reset" in reset.stdout, reset.stderr
    unknown = _run(tmp_path, OLD, "users", "reset-mfa", "nobody")
    assert unknown.returncode == 1
