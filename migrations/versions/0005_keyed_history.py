"""Keyed history chains: HMAC rows, seals over the older SHA-256 rows, no TRUNCATE

Rows written from now on carry the fingerprint of the history key (key_id) and an HMAC-SHA256
instead of a plain SHA-256; older rows keep their hash and key_id NULL, and `tracker history
seal` covers them with a keyed seal (history_seals). PostgreSQL now also refuses TRUNCATE of
the history table (UPDATE and DELETE were refused already; SQLite has no TRUNCATE).

The column is added without a table rebuild, so SQLite keeps its append-only triggers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("status_changes", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.create_table(
        "history_seals",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_history_seals_proposal_id_proposals")
        ),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_history_seals")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER status_changes_no_truncate BEFORE TRUNCATE ON status_changes "
            "FOR EACH STATEMENT EXECUTE FUNCTION status_changes_append_only()"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS status_changes_no_truncate ON status_changes")
    op.drop_table("history_seals")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("status_changes", "key_id")
    else:
        # SQLite drops a column by rebuilding the table, which loses its triggers: put them back.
        op.execute("DROP TRIGGER IF EXISTS status_changes_no_update")
        op.execute("DROP TRIGGER IF EXISTS status_changes_no_delete")
        with op.batch_alter_table("status_changes") as batch_op:
            batch_op.drop_column("key_id")
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER status_changes_no_{action.lower()} BEFORE {action} ON status_changes "
                "BEGIN SELECT RAISE(ABORT, 'status_changes is append-only'); END"
            )
