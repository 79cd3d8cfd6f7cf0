"""coordinating organisations and reporting agreements (statistics)

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import intake.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reporting_agreements",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("coordinator_id", sa.String(length=32), nullable=False),
        sa.Column("reporting_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", intake.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["coordinator_id"],
            ["organisations.id"],
            name=op.f("fk_reporting_agreements_coordinator_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["reporting_id"],
            ["organisations.id"],
            name=op.f("fk_reporting_agreements_reporting_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_reporting_agreements_created_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporting_agreements")),
        sa.UniqueConstraint("coordinator_id", "reporting_id", name="uq_reporting_agreements_pair"),
    )
    op.create_index(
        op.f("ix_reporting_agreements_coordinator_id"),
        "reporting_agreements",
        ["coordinator_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_reporting_agreements_coordinator_id"), table_name="reporting_agreements")
    op.drop_table("reporting_agreements")
