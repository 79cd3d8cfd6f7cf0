"""transfers, partner team members, team notes, external bodies and safe-return referrals

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import intake.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "external_bodies",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", intake.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_external_bodies_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_bodies")),
    )
    op.create_index(
        "ix_external_bodies_org_name", "external_bodies", ["organisation_id", "name"], unique=False
    )
    op.create_table(
        "case_partner_members",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("function", sa.String(length=40), nullable=False),
        sa.Column("open_key", sa.String(length=80), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("invited_by_id", sa.String(length=32), nullable=False),
        sa.Column("invited_at", intake.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("answered_by_id", sa.String(length=32), nullable=True),
        sa.Column("answered_at", intake.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", intake.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["users.id"],
            name=op.f("fk_case_partner_members_answered_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_partner_members_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_case_partner_members_invited_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_case_partner_members_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_case_partner_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_partner_members")),
        sa.UniqueConstraint("open_key", name=op.f("uq_case_partner_members_open_key")),
    )
    op.create_index(
        op.f("ix_case_partner_members_case_id"), "case_partner_members", ["case_id"], unique=False
    )
    op.create_index(
        "ix_case_partner_members_org_status",
        "case_partner_members",
        ["organisation_id", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_case_partner_members_user_id"), "case_partner_members", ["user_id"], unique=False
    )
    op.create_table(
        "case_team_notes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", intake.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sealed_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_case_team_notes_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_team_notes_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_case_team_notes_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_team_notes")),
    )
    op.create_index(
        "ix_case_team_notes_case_at", "case_team_notes", ["case_id", "created_at"], unique=False
    )
    op.create_table(
        "case_transfers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("open_case_id", sa.String(length=32), nullable=True),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("case_opened_at", intake.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("from_organisation_id", sa.String(length=32), nullable=False),
        sa.Column("to_organisation_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", intake.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("answered_by_id", sa.String(length=32), nullable=True),
        sa.Column("answered_at", intake.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("assignee_id", sa.String(length=32), nullable=True),
        sa.Column("forms_moved", sa.Integer(), nullable=False),
        sa.Column("forms_without_sensitive", sa.Integer(), nullable=False),
        sa.Column("sealed_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["users.id"], name=op.f("fk_case_transfers_answered_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_case_transfers_assignee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_transfers_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_case_transfers_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["from_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_case_transfers_from_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["to_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_case_transfers_to_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_transfers")),
        sa.UniqueConstraint("open_case_id", name=op.f("uq_case_transfers_open_case_id")),
    )
    op.create_index(op.f("ix_case_transfers_case_id"), "case_transfers", ["case_id"], unique=False)
    op.create_index(
        "ix_case_transfers_from_org",
        "case_transfers",
        ["from_organisation_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_case_transfers_to_org_status",
        "case_transfers",
        ["to_organisation_id", "status", "created_at"],
        unique=False,
    )
    op.create_table(
        "return_referrals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("external_body_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column("sending_contact", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", intake.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", intake.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_return_referrals_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_return_referrals_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["external_body_id"],
            ["external_bodies.id"],
            name=op.f("fk_return_referrals_external_body_id_external_bodies"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_return_referrals_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_referrals")),
    )
    op.create_index(
        op.f("ix_return_referrals_case_id"), "return_referrals", ["case_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_return_referrals_case_id"), table_name="return_referrals")
    op.drop_table("return_referrals")
    op.drop_index("ix_case_transfers_to_org_status", table_name="case_transfers")
    op.drop_index("ix_case_transfers_from_org", table_name="case_transfers")
    op.drop_index(op.f("ix_case_transfers_case_id"), table_name="case_transfers")
    op.drop_table("case_transfers")
    op.drop_index("ix_case_team_notes_case_at", table_name="case_team_notes")
    op.drop_table("case_team_notes")
    op.drop_index(op.f("ix_case_partner_members_user_id"), table_name="case_partner_members")
    op.drop_index("ix_case_partner_members_org_status", table_name="case_partner_members")
    op.drop_index(op.f("ix_case_partner_members_case_id"), table_name="case_partner_members")
    op.drop_table("case_partner_members")
    op.drop_index("ix_external_bodies_org_name", table_name="external_bodies")
    op.drop_table("external_bodies")
