"""Indexes for the queue's sorts: title, amount requested and submission date, each with the id
that breaks ties and the status the queue filters on, so that a page (the first or the
thousandth) reads its ids from the index alone

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 12:30:00
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_proposals_title_id": ["title", "id", "status"],
    "ix_proposals_requested_id": ["requested_eur", "id", "status"],
    "ix_proposals_submitted_id": ["submitted_at", "id", "status"],
}


def upgrade():
    with op.batch_alter_table("proposals") as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    with op.batch_alter_table("proposals") as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
