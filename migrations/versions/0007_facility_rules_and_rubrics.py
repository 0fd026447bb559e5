"""A facility's rules and rubric as data: rolling calls and batches, grace periods, rates by
income group, per-proposal deadline extensions, and a scoring rubric per call

Every existing call gets the BPF rubric (six weighted criteria marked 0 to 10, two scores, a
third beyond 30 % divergence), and every existing score a copy of it, as it was scored under.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The BPF rubric as it was built in before this revision (review/rules.py).
BPF_CRITERIA = [
    ("relevance", "Relevance to the call and the SDGs", 20),
    ("impact", "Development impact", 25),
    ("viability", "Economic viability", 20),
    ("innovation", "Innovation and additionality", 15),
    ("partners", "Partners' capacity", 10),
    ("sustainability", "Sustainability", 10),
]


def upgrade():
    with op.batch_alter_table("calls") as batch_op:
        batch_op.alter_column("closes_at", existing_type=sa.DateTime(timezone=True), nullable=True)
        batch_op.add_column(
            sa.Column("rolling", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("grace_minutes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "rate_by_income_group", sa.JSON(), nullable=False, server_default=sa.text("'{}'")
            )
        )
        batch_op.drop_constraint(op.f("ck_calls_window"), type_="check")
        batch_op.create_check_constraint("window", "closes_at IS NULL OR closes_at > opens_at")
        batch_op.create_check_constraint("closing", "rolling OR closes_at IS NOT NULL")
        batch_op.create_check_constraint("grace", "grace_minutes >= 0 AND grace_minutes <= 10080")
    with op.batch_alter_table("calls") as batch_op:
        batch_op.alter_column("rolling", server_default=None)
        batch_op.alter_column("grace_minutes", server_default=None)
        batch_op.alter_column("rate_by_income_group", server_default=None)

    op.create_table(
        "call_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("budget_envelope_eur", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_call_batches_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_batches")),
        sa.UniqueConstraint("call_id", "number", name="uq_call_batches_call_number"),
    )
    op.create_index(op.f("ix_call_batches_call_id"), "call_batches", ["call_id"])

    op.create_table(
        "rubrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("scores_required", sa.Integer(), nullable=False),
        sa.Column("divergence_percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("threshold", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "scores_required BETWEEN 1 AND 9", name=op.f("ck_rubrics_scores_required")
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_rubrics_call_id_calls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rubrics")),
        sa.UniqueConstraint("call_id", name=op.f("uq_rubrics_call_id")),
    )
    op.create_table(
        "rubric_criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rubric_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("guidance", sa.Text(), nullable=False),
        sa.Column("weight", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("scale_min", sa.Integer(), nullable=False),
        sa.Column("scale_max", sa.Integer(), nullable=False),
        sa.CheckConstraint("scale_max > scale_min", name=op.f("ck_rubric_criteria_scale")),
        sa.CheckConstraint("weight > 0", name=op.f("ck_rubric_criteria_weight")),
        sa.ForeignKeyConstraint(
            ["rubric_id"],
            ["rubrics.id"],
            name=op.f("fk_rubric_criteria_rubric_id_rubrics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rubric_criteria")),
        sa.UniqueConstraint("rubric_id", "key", name="uq_rubric_criteria_key"),
    )
    op.create_index(op.f("ix_rubric_criteria_rubric_id"), "rubric_criteria", ["rubric_id"])

    # The BPF rubric for every call that exists, and a copy of it on every score.
    connection = op.get_bind()
    calls = connection.execute(sa.text("SELECT id FROM calls ORDER BY id")).scalars().all()
    rubrics = sa.table(
        "rubrics",
        sa.column("id", sa.Integer),
        sa.column("call_id", sa.Integer),
        sa.column("scores_required", sa.Integer),
        sa.column("divergence_percent", sa.Numeric),
        sa.column("threshold", sa.Numeric),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    criteria = sa.table(
        "rubric_criteria",
        sa.column("rubric_id", sa.Integer),
        sa.column("position", sa.Integer),
        sa.column("key", sa.String),
        sa.column("title", sa.String),
        sa.column("guidance", sa.Text),
        sa.column("weight", sa.Numeric),
        sa.column("scale_min", sa.Integer),
        sa.column("scale_max", sa.Integer),
    )
    now = connection.execute(sa.select(sa.func.current_timestamp())).scalar()
    for call_id in calls:
        rubric_id = connection.execute(
            rubrics.insert()
            .values(
                call_id=call_id,
                scores_required=2,
                divergence_percent=30,
                threshold=None,
                updated_at=now,
            )
            .returning(rubrics.c.id)
        ).scalar_one()
        connection.execute(
            criteria.insert(),
            [
                {
                    "rubric_id": rubric_id,
                    "position": position,
                    "key": key,
                    "title": title,
                    "guidance": "",
                    "weight": weight,
                    "scale_min": 0,
                    "scale_max": 10,
                }
                for position, (key, title, weight) in enumerate(BPF_CRITERIA, start=1)
            ],
        )
    snapshot = json.dumps(
        {
            "scores_required": 2,
            "divergence_percent": "30.00",
            "threshold": None,
            "criteria": [
                {"key": k, "title": t, "guidance": "", "weight": f"{w:.2f}", "min": 0, "max": 10}
                for k, t, w in BPF_CRITERIA
            ],
        }
    )
    with op.batch_alter_table("scores") as batch_op:
        batch_op.add_column(
            sa.Column("rubric", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    connection.execute(sa.text("UPDATE scores SET rubric = :snapshot"), {"snapshot": snapshot})
    with op.batch_alter_table("scores") as batch_op:
        batch_op.alter_column("rubric", server_default=None)

    # SQLite adds a foreign key by copying the table (env.py turns foreign keys off meanwhile).
    with op.batch_alter_table("proposals") as batch_op:
        batch_op.add_column(
            sa.Column("deadline_extended_to", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_proposals_batch_id_call_batches"), "call_batches", ["batch_id"], ["id"]
        )
        batch_op.create_index(op.f("ix_proposals_batch_id"), ["batch_id"])
    op.add_column(
        "submissions",
        sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade():
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.drop_column("late")
    with op.batch_alter_table("proposals") as batch_op:
        batch_op.drop_index(op.f("ix_proposals_batch_id"))
        batch_op.drop_constraint(op.f("fk_proposals_batch_id_call_batches"), type_="foreignkey")
        batch_op.drop_column("batch_id")
        batch_op.drop_column("deadline_extended_to")
    with op.batch_alter_table("scores") as batch_op:
        batch_op.drop_column("rubric")
    op.drop_index(op.f("ix_rubric_criteria_rubric_id"), table_name="rubric_criteria")
    op.drop_table("rubric_criteria")
    op.drop_table("rubrics")
    op.drop_index(op.f("ix_call_batches_call_id"), table_name="call_batches")
    op.drop_table("call_batches")
    op.execute("DELETE FROM calls WHERE closes_at IS NULL")
    with op.batch_alter_table("calls") as batch_op:
        batch_op.drop_constraint(op.f("ck_calls_grace"), type_="check")
        batch_op.drop_constraint(op.f("ck_calls_closing"), type_="check")
        batch_op.drop_constraint(op.f("ck_calls_window"), type_="check")
        batch_op.create_check_constraint("window", "closes_at > opens_at")
        batch_op.drop_column("rate_by_income_group")
        batch_op.drop_column("grace_minutes")
        batch_op.drop_column("rolling")
        batch_op.alter_column("closes_at", existing_type=sa.DateTime(timezone=True), nullable=False)
