"""Sessions on the server, a form stash bound to its owner, shared rate-limit counters

Signing out (or "sign out on every device") now ends the session row, so a copied cookie opens
nothing afterwards; the per-user rotating token it replaces goes. Kept forms belong to the
person whose session expired. Failed sign-ins are counted in the database, so the limit holds
across every worker process and app server.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"])

    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counters")),
    )

    # Kept forms live a day; those of before this change have no owner and are dropped.
    op.execute("DELETE FROM form_stashes")
    with op.batch_alter_table("form_stashes") as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=False))
        batch_op.add_column(
            sa.Column("size_bytes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index(batch_op.f("ix_form_stashes_user_id"), ["user_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_form_stashes_user_id_users"),
            "users",
            ["user_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("form_stashes") as batch_op:
        batch_op.alter_column("size_bytes", server_default=None)

    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_session_token"), type_="unique")
        batch_op.drop_column("session_token")


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("session_token", sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE users SET session_token = md5(random()::text || id::text) || md5(id::text)"
        )
    else:
        op.execute("UPDATE users SET session_token = lower(hex(randomblob(32)))")
    with op.batch_alter_table("users") as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_users_session_token"), ["session_token"])

    op.execute("DELETE FROM form_stashes")
    with op.batch_alter_table("form_stashes") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_form_stashes_user_id_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_form_stashes_user_id"))
        batch_op.drop_column("size_bytes")
        batch_op.drop_column("user_id")

    op.drop_table("rate_limit_counters")
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
