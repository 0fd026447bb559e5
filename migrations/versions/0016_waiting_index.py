"""An index for My work: the proposals of one status, the longest unchanged first

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 14:50:00
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("proposals") as batch_op:
        batch_op.create_index(
            "ix_proposals_status_updated", ["status", "updated_at", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("proposals") as batch_op:
        batch_op.drop_index("ix_proposals_status_updated")
