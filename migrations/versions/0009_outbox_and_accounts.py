"""E-mail through an outbox, notification preferences, password reset and address verification
tokens, two-factor sign-in, and staff roles held for given programmes (the evaluator role)

Every existing account counts as verified (its address has been used until now), and every
existing role stays held for the whole tracker.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OLD_ROLES = ("applicant", "reviewer", "hrdd", "committee", "reporting", "admin")


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _user_roles(scoped: bool):
    if scoped:
        return op.create_table(
            "user_roles",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("role", _enum("role", *OLD_ROLES, "evaluator"), nullable=False),
            sa.Column("programme_id", sa.Integer(), nullable=True),
            sa.ForeignKeyConstraint(
                ["programme_id"],
                ["programmes.id"],
                name=op.f("fk_user_roles_programme_id_programmes"),
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                ["user_id"],
                ["users.id"],
                name=op.f("fk_user_roles_user_id_users"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_user_roles")),
            sa.UniqueConstraint("user_id", "role", "programme_id", name="uq_user_roles_scope"),
        )
    return op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", _enum("role", *OLD_ROLES), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_roles")),
    )


def upgrade():
    connection = op.get_bind()

    # Roles: keep every row, for the whole tracker (programme_id NULL).
    roles = connection.execute(sa.text("SELECT user_id, role FROM user_roles")).all()
    op.drop_table("user_roles")
    table = _user_roles(scoped=True)
    op.create_index(op.f("ix_user_roles_user_id"), "user_roles", ["user_id"])
    if roles:
        connection.execute(
            table.insert(), [{"user_id": u, "role": r, "programme_id": None} for u, r in roles]
        )

    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=5), nullable=False, server_default="en")
        )
        batch_op.add_column(
            sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("language", server_default=None)
    connection.execute(sa.text("UPDATE users SET email_verified_at = created_at"))

    with op.batch_alter_table("notifications") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=40), nullable=False, server_default="status_change")
        )
        batch_op.add_column(
            sa.Column("link", sa.String(length=500), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("digest_pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint("uq_notifications_dedupe", ["user_id", "dedupe_key"])
        batch_op.create_index("ix_notifications_digest", ["digest_pending", "user_id"])
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.alter_column("kind", server_default=None)
        batch_op.alter_column("link", server_default=None)
        batch_op.alter_column("digest_pending", server_default=None)

    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("delivery", _enum("delivery", "immediately", "digest", "in_app"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_notification_preferences")),
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column(
            "status", _enum("outbox_status", "pending", "sending", "sent", "failed"), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.String(length=80), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_outbox_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    op.create_index(op.f("ix_outbox_user_id"), "outbox", ["user_id"])
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])

    op.create_table(
        "account_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose", _enum("token_purpose", "reset_password", "verify_email"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_account_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
    )
    op.create_index(op.f("ix_account_tokens_user_id"), "account_tokens", ["user_id"])

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"])


def downgrade():
    op.drop_table("recovery_codes")
    op.drop_table("account_tokens")
    op.drop_table("outbox")
    op.drop_table("notification_preferences")
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_index("ix_notifications_digest")
        batch_op.drop_constraint("uq_notifications_dedupe", type_="unique")
        batch_op.drop_column("dedupe_key")
        batch_op.drop_column("digest_pending")
        batch_op.drop_column("link")
        batch_op.drop_column("kind")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret")
        batch_op.drop_column("email_verified_at")
        batch_op.drop_column("language")

    connection = op.get_bind()
    roles = connection.execute(
        sa.text("SELECT DISTINCT user_id, role FROM user_roles WHERE role <> 'evaluator'")
    ).all()
    op.drop_table("user_roles")
    table = _user_roles(scoped=False)
    if roles:
        connection.execute(table.insert(), [{"user_id": u, "role": r} for u, r in roles])
