"""Audit trail: who changed which recorded data, with the old and new value of each field

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 07:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("proposal_version", sa.Integer(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "action IN ('created', 'updated', 'deleted')", name=op.f("ck_audit_entries_action")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_entries_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_audit_entries_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    op.create_index("ix_audit_entries_object", "audit_entries", ["object_type", "object_id", "id"])
    op.create_index("ix_audit_entries_proposal", "audit_entries", ["proposal_id", "id"])


def downgrade():
    op.drop_index("ix_audit_entries_proposal", table_name="audit_entries")
    op.drop_index("ix_audit_entries_object", table_name="audit_entries")
    op.drop_table("audit_entries")
