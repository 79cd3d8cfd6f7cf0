"""case stage counts: open and closed cases per organisation, version, track and stage;
an index of open cases by how long they have been in their stage

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_stage_counts",
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("workflow_version_id", sa.String(length=32), nullable=False),
        sa.Column("track", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_case_stage_counts_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint(
            "organisation_id",
            "workflow_version_id",
            "track",
            "state",
            "is_open",
            name=op.f("pk_case_stage_counts"),
        ),
    )
    op.create_index(
        "ix_cases_org_open_stage_age",
        "cases",
        [
            "organisation_id",
            "state_entered_at",
            "id",
            "closed_at",
            "workflow_version_id",
            "track",
            "state",
        ],
    )
    # Backfill: every existing case counted once.
    op.execute(
        "INSERT INTO case_stage_counts "
        "(organisation_id, workflow_version_id, track, state, is_open, cases) "
        "SELECT organisation_id, workflow_version_id, track, state, closed_at IS NULL, count(*) "
        "FROM cases GROUP BY organisation_id, workflow_version_id, track, state, closed_at IS NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_cases_org_open_stage_age", table_name="cases")
    op.drop_table("case_stage_counts")
