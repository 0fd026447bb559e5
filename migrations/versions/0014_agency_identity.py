"""The agency's identity as data: its name, logo, the navigation bar's colour and the footer's
contact, legal notice and privacy links (one row, set by an administrator)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "agency_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("colour", sa.String(length=7), nullable=False),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_type", sa.String(length=20), nullable=True),
        sa.Column("contact_email", sa.String(length=200), nullable=False),
        sa.Column("contact_text", sa.String(length=300), nullable=False),
        sa.Column("legal_url", sa.String(length=300), nullable=False),
        sa.Column("privacy_url", sa.String(length=300), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_agency_identity_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_identity")),
    )


def downgrade():
    op.drop_table("agency_identity")
