"""offline submissions: sealing keys and stage-mismatch marks

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_MARKED = ("form_drafts", "submissions")


def upgrade() -> None:
    op.create_table(
        "sealing_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealing_keys")),
    )
    for table in _MARKED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("sealed_with", sa.String(length=32), nullable=True))
            batch.add_column(sa.Column("filled_at_stage", sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table in _MARKED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("filled_at_stage")
            batch.drop_column("sealed_with")
    op.drop_table("sealing_keys")
