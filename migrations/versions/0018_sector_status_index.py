"""The status tabs' counts of one sector's proposals, read from an index alone

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 17:25:00
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("proposals") as batch_op:
        batch_op.create_index("ix_proposals_sector_status", ["sector_id", "status"], unique=False)


def downgrade():
    with op.batch_alter_table("proposals") as batch_op:
        batch_op.drop_index("ix_proposals_sector_status")
