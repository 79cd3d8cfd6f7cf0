"""services delivered on a case

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import intake.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_records",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("track", sa.String(length=64), nullable=False),
        sa.Column("service_type", sa.String(length=64), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("provided_by", sa.String(length=24), nullable=False),
        sa.Column("provider_user_id", sa.String(length=32), nullable=True),
        sa.Column("provider_organisation_id", sa.String(length=32), nullable=True),
        sa.Column("sealed_note", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", intake.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_service_records_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_service_records_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_service_records_provider_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_user_id"],
            ["users.id"],
            name=op.f("fk_service_records_provider_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_service_records_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_records")),
        sa.UniqueConstraint("client_id", "service_type", name=op.f("uq_service_records_client_id")),
    )
    with op.batch_alter_table("service_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_records_case_on", ["case_id", "delivered_on"], unique=False
        )
        batch_op.create_index(
            "ix_service_records_org_on", ["organisation_id", "delivered_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("service_records", schema=None) as batch_op:
        batch_op.drop_index("ix_service_records_org_on")
        batch_op.drop_index("ix_service_records_case_on")
    op.drop_table("service_records")
