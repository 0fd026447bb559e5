"""The data's generation: a number moved after every committed change, for the pages' caches

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 16:40:00
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "data_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("epoch", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_generation")),
    )
    op.bulk_insert(table, [{"id": 1, "number": 1, "epoch": secrets.token_hex(16)}])


def downgrade():
    op.drop_table("data_generation")
