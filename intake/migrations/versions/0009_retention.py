"""retention: a period per organisation, anonymised cases and their coarse statistics

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import intake.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retention_years", sa.Integer(), nullable=False, server_default="5")
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("anonymised_at", intake.db.UtcDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "case_statistics",
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("age_band", sa.String(length=8), nullable=False),
        sa.Column("gender", sa.String(length=40), nullable=False),
        sa.Column("nationality", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_statistics_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_statistics")),
    )


def downgrade() -> None:
    op.drop_table("case_statistics")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("anonymised_at")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("retention_years")
