"""Review pipeline: screening, HRDD assessment, scores, conflicts and contracts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 02:28:36.968728
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():

    op.create_table(
        "conflict_declarations",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("has_conflict", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_conflict_declarations_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_conflict_declarations_user_id_users")
        ),
        sa.PrimaryKeyConstraint("proposal_id", "user_id", name=op.f("pk_conflict_declarations")),
    )
    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=True),
        sa.Column("granted_eur", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("clause_version_id", sa.Integer(), nullable=True),
        sa.Column("clause_text", sa.Text(), nullable=True),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("agency_signed_on", sa.Date(), nullable=True),
        sa.Column("company_signed_on", sa.Date(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date > start_date",
            name=op.f("ck_contracts_dates"),
        ),
        sa.CheckConstraint(
            "signed_at IS NULL OR (clause_text IS NOT NULL AND agency_signed_on IS NOT NULL AND company_signed_on IS NOT NULL AND number IS NOT NULL)",
            name=op.f("ck_contracts_signed_complete"),
        ),
        sa.ForeignKeyConstraint(
            ["clause_version_id"],
            ["clause_versions.id"],
            name=op.f("fk_contracts_clause_version_id_clause_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_contracts_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("number", name=op.f("uq_contracts_number")),
        sa.UniqueConstraint("proposal_id", name=op.f("uq_contracts_proposal_id")),
    )
    op.create_table(
        "hrdd_assessments",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("exclusion_checked", sa.Boolean(), nullable=False),
        sa.Column("exclusion_hit", sa.Boolean(), nullable=False),
        sa.Column("exclusion_note", sa.Text(), nullable=False),
        sa.Column(
            "risk_category",
            sa.Enum(
                "A",
                "B",
                "C",
                name="risk_category",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "clause_decision",
            sa.Enum(
                "standard",
                "conditions",
                "refused",
                name="clause_decision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("assessed_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "NOT exclusion_hit OR clause_decision IS NULL OR clause_decision = 'refused'",
            name=op.f("ck_hrdd_assessments_exclusion_refuses"),
        ),
        sa.ForeignKeyConstraint(
            ["assessed_by_id"], ["users.id"], name=op.f("fk_hrdd_assessments_assessed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_hrdd_assessments_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_hrdd_assessments")),
    )
    op.create_table(
        "reviewer_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"],
            ["users.id"],
            name=op.f("fk_reviewer_assignments_assigned_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_reviewer_assignments_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_reviewer_assignments_reviewer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviewer_assignments")),
        sa.UniqueConstraint("proposal_id", "reviewer_id", name="uq_reviewer_assignments_pair"),
    )
    with op.batch_alter_table("reviewer_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reviewer_assignments_proposal_id"), ["proposal_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_reviewer_assignments_reviewer_id"), ["reviewer_id"], unique=False
        )

    op.create_table(
        "scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("marks", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("total", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("total >= 0 AND total <= 100", name=op.f("ck_scores_total_range")),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_scores_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_scores_reviewer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scores")),
        sa.UniqueConstraint("proposal_id", "reviewer_id", name="uq_scores_pair"),
    )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scores_proposal_id"), ["proposal_id"], unique=False)

    op.create_table(
        "screening_items",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("met", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_screening_items_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_screening_items_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", "key", name=op.f("pk_screening_items")),
    )
    op.create_table(
        "hrdd_conditions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["hrdd_assessments.proposal_id"],
            name=op.f("fk_hrdd_conditions_proposal_id_hrdd_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hrdd_conditions")),
    )
    with op.batch_alter_table("hrdd_conditions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hrdd_conditions_proposal_id"), ["proposal_id"], unique=False
        )

    op.create_table(
        "hrdd_risks",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("risk_key", sa.String(length=40), nullable=False),
        sa.Column("relevant", sa.Boolean(), nullable=True),
        sa.Column(
            "severity",
            sa.Enum(
                "low",
                "medium",
                "high",
                name="severity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "likelihood",
            sa.Enum(
                "low",
                "medium",
                "high",
                name="likelihood",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["hrdd_assessments.proposal_id"],
            name=op.f("fk_hrdd_risks_proposal_id_hrdd_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", "risk_key", name=op.f("pk_hrdd_risks")),
    )
    op.create_table(
        "payment_instalments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("amount_eur", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_payment_instalments_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_instalments")),
    )
    with op.batch_alter_table("payment_instalments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_instalments_contract_id"), ["contract_id"], unique=False
        )


def downgrade():

    with op.batch_alter_table("payment_instalments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_instalments_contract_id"))

    op.drop_table("payment_instalments")
    op.drop_table("hrdd_risks")
    with op.batch_alter_table("hrdd_conditions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hrdd_conditions_proposal_id"))

    op.drop_table("hrdd_conditions")
    op.drop_table("screening_items")
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scores_proposal_id"))

    op.drop_table("scores")
    with op.batch_alter_table("reviewer_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviewer_assignments_reviewer_id"))
        batch_op.drop_index(batch_op.f("ix_reviewer_assignments_proposal_id"))

    op.drop_table("reviewer_assignments")
    op.drop_table("hrdd_assessments")
    op.drop_table("contracts")
    op.drop_table("conflict_declarations")
