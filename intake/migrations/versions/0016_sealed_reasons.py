"""sealed free text: history reasons and free-text, phone and e-mail answers written in the
clear by earlier versions are sealed with the active data key (no schema change)

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _has_data(conn: sa.engine.Connection) -> bool:
    for table in ("case_history", "submissions", "form_drafts"):
        if conn.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None:  # noqa: S608
            return True
    return False


def upgrade() -> None:
    conn = op.get_bind()
    if not _has_data(conn):
        return  # a new database: nothing was ever written in the clear
    # The data keys are needed only when there is something to seal.
    from intake.config import get_settings
    from intake.keys.clear_text import seal_clear_values

    seal_clear_values(conn=conn, settings=get_settings())


def downgrade() -> None:
    # Sealed values stay sealed: every version since 0016 reads them, and unsealing would
    # put the person's words back in the clear.
    pass
