"""The project after signature: reports and their versions, HRDD conditions followed to their
settlement, grievances, and the tranches' releases and payments

Agreements signed before this revision get their tranches' releases (the first at signature,
the last on the final report, the others on the mid-term report) and their reports and
conditions, dated from the agreement as a signature today would date them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:13:43.659055
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "grievances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "company_mechanism",
                "agency",
                "partner",
                "media",
                "other",
                name="grievance_channel",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("raised_by", sa.String(length=200), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "labour",
                "land",
                "community",
                "environment",
                "data",
                "other",
                name="grievance_category",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "severity",
            sa.Enum(
                "low",
                "medium",
                "high",
                "severe",
                name="grievance_severity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("remediation", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "under_review",
                "addressed",
                "closed",
                name="grievance_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("blocks_payment", sa.Boolean(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "NOT anonymous OR raised_by = ''", name=op.f("ck_grievances_anonymous_has_no_name")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_grievances_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_grievances_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grievances")),
    )
    with op.batch_alter_table("grievances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grievances_proposal_id"), ["proposal_id"], unique=False
        )

    op.create_table(
        "project_conditions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "met",
                "waived",
                name="condition_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_project_conditions_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_project_conditions_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_conditions")),
        sa.UniqueConstraint("proposal_id", "position", name="uq_condition_number"),
    )
    with op.batch_alter_table("project_conditions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_project_conditions_proposal_id"), ["proposal_id"], unique=False
        )

    op.create_table(
        "project_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "mid_term",
                "final",
                "other",
                name="report_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "due",
                "draft",
                "submitted",
                "returned",
                "approved",
                name="report_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_project_reports_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_reports")),
        sa.UniqueConstraint("proposal_id", "kind", "title", name="uq_report_title"),
    )
    with op.batch_alter_table("project_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_project_reports_proposal_id"), ["proposal_id"], unique=False
        )

    op.create_table(
        "report_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["project_reports.id"],
            name=op.f("fk_report_documents_report_id_project_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_report_documents_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_documents")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_report_documents_stored_name")),
    )
    with op.batch_alter_table("report_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_documents_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "report_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "due",
                "draft",
                "submitted",
                "returned",
                "approved",
                name="report_decision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("internal_note", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_report_versions_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["project_reports.id"],
            name=op.f("fk_report_versions_report_id_project_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"], ["users.id"], name=op.f("fk_report_versions_submitted_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_versions")),
        sa.UniqueConstraint("report_id", "number", name="uq_report_versions"),
    )
    with op.batch_alter_table("report_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_versions_report_id"), ["report_id"], unique=False
        )

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("responsible_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("recovery_eur", sa.Numeric(precision=12, scale=2), nullable=True)
        )
        batch_op.add_column(
            sa.Column("total_cost_eur", sa.Numeric(precision=12, scale=2), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_contracts_responsible_id_users"), "users", ["responsible_id"], ["id"]
        )

    with op.batch_alter_table("payment_instalments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "release_at_signature", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("release_report", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("release_conditions", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("paid_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("paid_eur", sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column("payment_reference", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("paid_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_payment_instalments_paid_by_id_users"), "users", ["paid_by_id"], ["id"]
        )
        batch_op.create_check_constraint(
            op.f("ck_payment_instalments_payment_complete"),
            "(paid_on IS NULL) = (paid_eur IS NULL) AND (paid_eur IS NULL OR paid_eur > 0)",
        )
    _existing_agreements()
    with op.batch_alter_table("payment_instalments", schema=None) as batch_op:
        batch_op.alter_column("release_at_signature", server_default=None)
        batch_op.alter_column("release_conditions", server_default=None)


def _existing_agreements():
    """Releases for the tranches of existing agreements; reports and conditions for signed ones."""
    import json
    from datetime import UTC, date, datetime, timedelta

    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, contract_id, position FROM payment_instalments "
            "ORDER BY contract_id, position"
        )
    ).all()
    counts = {}
    for _id, contract_id, _position in rows:
        counts[contract_id] = counts.get(contract_id, 0) + 1
    for instalment_id, contract_id, position in rows:
        count = counts[contract_id]
        report = None if position == 1 else ("final" if position == count else "mid_term")
        connection.execute(
            sa.text(
                "UPDATE payment_instalments SET release_at_signature = :sig, "
                "release_report = :report WHERE id = :id"
            ),
            {"sig": position == 1, "report": report, "id": instalment_id},
        )
    connection.execute(
        sa.text(
            "UPDATE contracts SET total_cost_eur = (SELECT total_cost_eur FROM proposals "
            "WHERE proposals.id = contracts.proposal_id) WHERE signed_at IS NOT NULL"
        )
    )
    now = datetime.now(UTC)
    signed = connection.execute(
        sa.text(
            "SELECT proposal_id, start_date, end_date, conditions FROM contracts "
            "WHERE signed_at IS NOT NULL AND start_date IS NOT NULL AND end_date IS NOT NULL"
        )
    ).all()
    for proposal_id, start, end, conditions in signed:
        start = start if isinstance(start, date) else date.fromisoformat(start)
        end = end if isinstance(end, date) else date.fromisoformat(end)
        for kind, title, due in (
            ("mid_term", "Mid-term report", start + (end - start) / 2),
            ("final", "Final report", end + timedelta(days=60)),
        ):
            connection.execute(
                sa.text(
                    "INSERT INTO project_reports (proposal_id, kind, title, due_on, status, "
                    "content, updated_at, version) VALUES (:p, :k, :t, :d, 'due', '{}', :now, 1)"
                ),
                {"p": proposal_id, "k": kind, "t": title, "d": due, "now": now},
            )
        texts = conditions if isinstance(conditions, list) else json.loads(conditions or "[]")
        for position, text in enumerate(texts, start=1):
            connection.execute(
                sa.text(
                    "INSERT INTO project_conditions (proposal_id, position, text, due_on, "
                    "status, evidence, reason) VALUES (:p, :n, :t, :d, 'open', '', '')"
                ),
                {"p": proposal_id, "n": position, "t": text, "d": start + timedelta(days=90)},
            )


def downgrade():
    with op.batch_alter_table("payment_instalments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payment_instalments_payment_complete"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_payment_instalments_paid_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("paid_at")
        batch_op.drop_column("paid_by_id")
        batch_op.drop_column("payment_reference")
        batch_op.drop_column("paid_eur")
        batch_op.drop_column("paid_on")
        batch_op.drop_column("release_conditions")
        batch_op.drop_column("release_report")
        batch_op.drop_column("release_at_signature")

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_contracts_responsible_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("total_cost_eur")
        batch_op.drop_column("recovery_eur")
        batch_op.drop_column("responsible_id")

    with op.batch_alter_table("report_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_versions_report_id"))

    op.drop_table("report_versions")
    with op.batch_alter_table("report_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_documents_report_id"))

    op.drop_table("report_documents")
    with op.batch_alter_table("project_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_reports_proposal_id"))

    op.drop_table("project_reports")
    with op.batch_alter_table("project_conditions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_conditions_proposal_id"))

    op.drop_table("project_conditions")
    with op.batch_alter_table("grievances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grievances_proposal_id"))

    op.drop_table("grievances")
