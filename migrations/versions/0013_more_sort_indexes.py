"""Indexes for the queue's two other sorts, last change and status, each with the id that
breaks ties (and the status the queue filters on), as migration 0012 gave the others

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 13:30:00
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_proposals_updated_id": ["updated_at", "id", "status"],
    "ix_proposals_status_id": ["status", "id"],
}


def upgrade():
    with op.batch_alter_table("proposals") as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    with op.batch_alter_table("proposals") as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
