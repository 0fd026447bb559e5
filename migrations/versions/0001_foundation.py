"""Foundation: accounts, programmes, calls, proposals and history

Revision ID: 0001
Revises:
Create Date: 2026-11-23 02:00:45.476850
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():

    op.create_table(
        "form_stashes",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_form_stashes")),
    )
    with op.batch_alter_table("form_stashes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_form_stashes_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.create_index("ix_organisations_name", ["name"], unique=False)

    op.create_table(
        "programmes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("first_year", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programmes")),
        sa.UniqueConstraint("code", name=op.f("uq_programmes_code")),
    )
    op.create_table(
        "sectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("built_in", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sectors")),
        sa.UniqueConstraint("key", name=op.f("uq_sectors_key")),
    )
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("workflow_key", sa.String(length=40), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("full_proposal_closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("partner_countries", sa.JSON(), nullable=False),
        sa.Column("cofinancing_rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("ceiling_eur", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("road_haulage_ceiling_eur", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("budget_envelope_eur", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("min_company_age_years", sa.Integer(), nullable=False),
        sa.Column("min_employees", sa.Integer(), nullable=False),
        sa.Column("min_turnover_eur", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("turnover_multiple", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column(
            "turnover_base",
            sa.Enum(
                "requested",
                "total",
                name="turnover_base",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("imported", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("closes_at > opens_at", name=op.f("ck_calls_window")),
        sa.CheckConstraint(
            "cofinancing_rate > 0 AND cofinancing_rate <= 100", name=op.f("ck_calls_rate")
        ),
        sa.CheckConstraint(
            "full_proposal_closes_at IS NULL OR full_proposal_closes_at > closes_at",
            name=op.f("ck_calls_full_proposal_after_concept"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"], name=op.f("fk_calls_programme_id_programmes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("programme_id", "title", name="uq_calls_programme_title"),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calls_programme_id"), ["programme_id"], unique=False)

    op.create_table(
        "reference_counters",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_reference_counters_programme_id_programmes"),
        ),
        sa.PrimaryKeyConstraint("programme_id", "year", name=op.f("pk_reference_counters")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("session_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_users_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("session_token", name=op.f("uq_users_session_token")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_users_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "call_sectors",
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("sector_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_call_sectors_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sector_id"], ["sectors.id"], name=op.f("fk_call_sectors_sector_id_sectors")
        ),
        sa.PrimaryKeyConstraint("call_id", "sector_id", name=op.f("pk_call_sectors")),
    )
    op.create_table(
        "clause_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "published",
                name="clause_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(status = 'published') = (published_at IS NOT NULL)",
            name=op.f("ck_clause_versions_published_at"),
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"], ["users.id"], name=op.f("fk_clause_versions_published_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clause_versions")),
        sa.UniqueConstraint("number", name=op.f("uq_clause_versions_number")),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"], ["users.id"], name=op.f("fk_invitations_accepted_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_invitations_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_invitations_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invitations_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "applicant",
                "reviewer",
                "hrdd",
                "committee",
                "reporting",
                "admin",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("full_submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submission_checksum", sa.String(length=64), nullable=True),
        sa.Column("lead_name", sa.String(length=200), nullable=True),
        sa.Column("lead_country", sa.String(length=2), nullable=True),
        sa.Column("lead_registration_number", sa.String(length=80), nullable=True),
        sa.Column("lead_registration_date", sa.Date(), nullable=True),
        sa.Column("lead_employees", sa.Integer(), nullable=True),
        sa.Column("lead_turnover_1", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("lead_turnover_2", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("lead_turnover_3", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("lead_is_road_haulage", sa.Boolean(), nullable=False),
        sa.Column("de_minimis_1", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("de_minimis_2", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("de_minimis_3", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column(
            "project_type",
            sa.Enum(
                "feasibility_study",
                "pilot",
                "market_entry",
                "scale_up",
                name="project_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("sector_id", sa.Integer(), nullable=True),
        sa.Column("target_countries", sa.JSON(), nullable=False),
        sa.Column("sdgs", sa.JSON(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("solution", sa.Text(), nullable=True),
        sa.Column("impact_jobs", sa.Integer(), nullable=True),
        sa.Column("impact_beneficiaries", sa.Integer(), nullable=True),
        sa.Column("technology_transfer", sa.Text(), nullable=True),
        sa.Column("innovation", sa.Text(), nullable=True),
        sa.Column("sustainability", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("duration_months", sa.Integer(), nullable=True),
        sa.Column("total_cost_eur", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("requested_eur", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("own_contribution_eur", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("other_funding_eur", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("declared_accuracy", sa.Boolean(), nullable=False),
        sa.Column("declared_de_minimis", sa.Boolean(), nullable=False),
        sa.Column("declared_data_protection", sa.Boolean(), nullable=False),
        sa.Column("accepted_clause_version_id", sa.Integer(), nullable=True),
        sa.Column("declarations_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("partner_country", sa.String(length=2), nullable=True),
        sa.Column("granted_eur", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("unsaved_inputs", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "reference IS NOT NULL OR status IN ('draft', 'withdrawn')",
            name=op.f("ck_proposals_reference"),
        ),
        sa.ForeignKeyConstraint(
            ["accepted_clause_version_id"],
            ["clause_versions.id"],
            name=op.f("fk_proposals_accepted_clause_version_id_clause_versions"),
        ),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_proposals_call_id_calls")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_proposals_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_proposals_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["sector_id"], ["sectors.id"], name=op.f("fk_proposals_sector_id_sectors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
        sa.UniqueConstraint("reference", name=op.f("uq_proposals_reference")),
    )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposals_call_id"), ["call_id"], unique=False)
        batch_op.create_index("ix_proposals_call_status", ["call_id", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_proposals_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_proposals_partner_country"), ["partner_country"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_proposals_sector_id"), ["sector_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposals_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_proposals_submitted_at"), ["submitted_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_proposals_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_notifications_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_user_read", ["user_id", "read_at"], unique=False)

    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "company",
                "public_body",
                "research",
                "civil_society",
                name="partner_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("is_local", sa.Boolean(), nullable=False),
        sa.Column("role_description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_partners_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("proposal_id", "position", name="uq_partners_position"),
    )
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partners_proposal_id"), ["proposal_id"], unique=False)

    op.create_table(
        "self_assessment_answers",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.CheckConstraint("step BETWEEN 1 AND 6", name=op.f("ck_self_assessment_answers_step")),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_self_assessment_answers_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", "step", name=op.f("pk_self_assessment_answers")),
    )
    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("transition", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("internal_note", sa.Text(), nullable=False),
        sa.Column("imported", sa.Boolean(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "(seq = 1) = (prev_hash IS NULL)", name=op.f("ck_status_changes_chain_start")
        ),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_status_changes_seq_positive")),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_status_changes_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_status_changes_proposal_id_proposals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_changes")),
        sa.UniqueConstraint("proposal_id", "seq", name="uq_status_changes_proposal_seq"),
    )
    with op.batch_alter_table("status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_changes_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_status_changes_proposal_id"), ["proposal_id"], unique=False
        )
        batch_op.create_index(
            "ix_status_changes_to_status_created_at", ["to_status", "created_at"], unique=False
        )

    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "business_plan",
                "budget_sheet",
                "partner_letter",
                "other",
                "response",
                name="attachment_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_change_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_attachments_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["status_change_id"],
            ["status_changes.id"],
            name=op.f("fk_attachments_status_change_id_status_changes"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_attachments_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_attachments_stored_name")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attachments_proposal_id"), ["proposal_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_attachments_status_change_id"), ["status_change_id"], unique=False
        )

    _insert_built_in_sectors()
    _make_history_append_only()


# The sectors of DESIGN section 2, frozen here as they were when this revision was written.
BUILT_IN_SECTORS = [
    ("ict", "ICT"),
    ("fintech", "Fintech"),
    ("renewable-energy", "Renewable energy"),
    ("logistics", "Logistics"),
    ("circular-economy", "Circular economy"),
    ("space", "Space"),
    ("mobility", "Mobility"),
    ("cleantech", "CleanTech"),
    ("healthtech", "HealthTech"),
    ("biohealth", "Biohealth"),
    ("eco-innovation", "Eco-innovation"),
    ("covid-19", "Fight against COVID-19"),
    ("other", "Other"),
]


def _insert_built_in_sectors():
    sectors = sa.table(
        "sectors",
        sa.column("key", sa.String),
        sa.column("label", sa.String),
        sa.column("built_in", sa.Boolean),
        sa.column("active", sa.Boolean),
        sa.column("position", sa.Integer),
    )
    op.bulk_insert(
        sectors,
        [
            {
                "key": key,
                "label": label,
                "built_in": True,
                "active": True,
                "position": position * 10,
            }
            for position, (key, label) in enumerate(BUILT_IN_SECTORS, start=1)
        ],
    )


def _make_history_append_only():
    """The database itself refuses UPDATE and DELETE on the history (a second line of defence)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION status_changes_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'status_changes is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER status_changes_append_only BEFORE UPDATE OR DELETE ON status_changes "
            "FOR EACH ROW EXECUTE FUNCTION status_changes_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER status_changes_no_{action.lower()} BEFORE {action} ON status_changes "
                "BEGIN SELECT RAISE(ABORT, 'status_changes is append-only'); END"
            )


def _drop_history_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS status_changes_append_only ON status_changes")
        op.execute("DROP FUNCTION IF EXISTS status_changes_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS status_changes_no_update")
        op.execute("DROP TRIGGER IF EXISTS status_changes_no_delete")


def downgrade():
    _drop_history_triggers()

    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_status_change_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_proposal_id"))

    op.drop_table("attachments")
    with op.batch_alter_table("status_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_status_changes_to_status_created_at")
        batch_op.drop_index(batch_op.f("ix_status_changes_proposal_id"))
        batch_op.drop_index(batch_op.f("ix_status_changes_created_at"))

    op.drop_table("status_changes")
    op.drop_table("self_assessment_answers")
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partners_proposal_id"))

    op.drop_table("partners")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_read")

    op.drop_table("notifications")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposals_updated_at"))
        batch_op.drop_index(batch_op.f("ix_proposals_submitted_at"))
        batch_op.drop_index(batch_op.f("ix_proposals_status"))
        batch_op.drop_index(batch_op.f("ix_proposals_sector_id"))
        batch_op.drop_index(batch_op.f("ix_proposals_partner_country"))
        batch_op.drop_index(batch_op.f("ix_proposals_organisation_id"))
        batch_op.drop_index("ix_proposals_call_status")
        batch_op.drop_index(batch_op.f("ix_proposals_call_id"))

    op.drop_table("proposals")
    op.drop_table("user_roles")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_organisation_id"))

    op.drop_table("invitations")
    op.drop_table("clause_versions")
    op.drop_table("call_sectors")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_organisation_id"))

    op.drop_table("users")
    op.drop_table("reference_counters")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_programme_id"))

    op.drop_table("calls")
    op.drop_table("sectors")
    op.drop_table("programmes")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_index("ix_organisations_name")

    op.drop_table("organisations")
    with op.batch_alter_table("form_stashes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_stashes_created_at"))

    op.drop_table("form_stashes")
