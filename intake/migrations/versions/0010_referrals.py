"""referrals: a person referred to another organisation's service, shared forms, history

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import intake.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referrals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("from_organisation_id", sa.String(length=32), nullable=False),
        sa.Column("to_organisation_id", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("open_service", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", intake.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("answered_by_id", sa.String(length=32), nullable=True),
        sa.Column("answered_at", intake.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("assignee_id", sa.String(length=32), nullable=True),
        sa.Column("linked_case_id", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("closed_at", intake.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["users.id"], name=op.f("fk_referrals_answered_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_referrals_assignee_id_users")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_referrals_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_referrals_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["from_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_referrals_from_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["linked_case_id"], ["cases.id"], name=op.f("fk_referrals_linked_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["to_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_referrals_to_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("case_id", "open_service", name=op.f("uq_referrals_case_id")),
    )
    op.create_index(op.f("ix_referrals_case_id"), "referrals", ["case_id"], unique=False)
    op.create_index(
        op.f("ix_referrals_linked_case_id"), "referrals", ["linked_case_id"], unique=False
    )
    op.create_index(
        "ix_referrals_to_org_status",
        "referrals",
        ["to_organisation_id", "status", "created_at"],
        unique=False,
    )
    op.create_table(
        "referral_forms",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("referral_id", sa.String(length=32), nullable=False),
        sa.Column("source_submission_id", sa.String(length=32), nullable=False),
        sa.Column("form_key", sa.String(length=64), nullable=False),
        sa.Column("form_version_id", sa.String(length=32), nullable=False),
        sa.Column("submitted_at", intake.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sensitive_included", sa.Boolean(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_version_id"],
            ["definition_versions.id"],
            name=op.f("fk_referral_forms_form_version_id_definition_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_referral_forms_referral_id_referrals")
        ),
        sa.ForeignKeyConstraint(
            ["source_submission_id"],
            ["submissions.id"],
            name=op.f("fk_referral_forms_source_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_forms")),
    )
    op.create_index(
        op.f("ix_referral_forms_referral_id"), "referral_forms", ["referral_id"], unique=False
    )
    op.create_table(
        "referral_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("referral_id", sa.String(length=32), nullable=False),
        sa.Column("at", intake.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("sealed_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_referral_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_referral_events_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_referral_events_referral_id_referrals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_events")),
    )
    op.create_index(
        op.f("ix_referral_events_referral_id"), "referral_events", ["referral_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_referral_events_referral_id"), table_name="referral_events")
    op.drop_table("referral_events")
    op.drop_index(op.f("ix_referral_forms_referral_id"), table_name="referral_forms")
    op.drop_table("referral_forms")
    op.drop_index("ix_referrals_to_org_status", table_name="referrals")
    op.drop_index(op.f("ix_referrals_linked_case_id"), table_name="referrals")
    op.drop_index(op.f("ix_referrals_case_id"), table_name="referrals")
    op.drop_table("referrals")
