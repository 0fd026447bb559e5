"""The yearly report's own words per programme: an introduction and method notes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 14:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("programmes") as batch_op:
        batch_op.add_column(
            sa.Column("report_introduction", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("report_method", sa.Text(), nullable=False, server_default="")
        )


def downgrade():
    with op.batch_alter_table("programmes") as batch_op:
        batch_op.drop_column("report_method")
        batch_op.drop_column("report_introduction")
