"""A call's own questions and sections, and the answers to them (documents answer questions too)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

KINDS = (
    "short_text",
    "long_text",
    "integer",
    "amount",
    "percent",
    "date",
    "yes_no",
    "choice",
    "choices",
    "country",
    "countries",
    "file",
)
OLD_ATTACHMENT_KINDS = ("business_plan", "budget_sheet", "partner_letter", "other", "response")


def _stage(name):
    return sa.Enum(
        "concept", "full", name=name, native_enum=False, create_constraint=True, length=32
    )


def upgrade():
    op.create_table(
        "call_sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("stage", _stage("section_stage"), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_call_sections_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_sections")),
        sa.UniqueConstraint("call_id", "key", name="uq_call_sections_key"),
    )
    op.create_index(op.f("ix_call_sections_call_id"), "call_sections", ["call_id"])
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("section", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                *KINDS, name="question_kind", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("label", sa.JSON(), nullable=False),
        sa.Column("help", sa.JSON(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("stage", _stage("question_stage"), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("condition", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_questions_call_id_calls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
        sa.UniqueConstraint("call_id", "key", name="uq_questions_key"),
    )
    op.create_index(op.f("ix_questions_call_id"), "questions", ["call_id"])
    op.create_table(
        "answers",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_answers_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_answers_question_id_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", "question_id", name=op.f("pk_answers")),
    )
    op.create_index(op.f("ix_answers_question_id"), "answers", ["question_id"])
    with op.batch_alter_table("attachments") as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=sa.Enum(
                *OLD_ATTACHMENT_KINDS,
                name="attachment_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            type_=sa.Enum(
                *OLD_ATTACHMENT_KINDS,
                "answer",
                name="attachment_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            existing_nullable=False,
        )


def downgrade():
    op.execute("DELETE FROM attachments WHERE kind = 'answer'")
    with op.batch_alter_table("attachments") as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=sa.Enum(
                *OLD_ATTACHMENT_KINDS,
                "answer",
                name="attachment_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            type_=sa.Enum(
                *OLD_ATTACHMENT_KINDS,
                name="attachment_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            existing_nullable=False,
        )
    op.drop_index(op.f("ix_answers_question_id"), table_name="answers")
    op.drop_table("answers")
    op.drop_index(op.f("ix_questions_call_id"), table_name="questions")
    op.drop_table("questions")
    op.drop_index(op.f("ix_call_sections_call_id"), table_name="call_sections")
    op.drop_table("call_sections")
