"""The proposals of each call, sector and status counted by the database: a ledger written by
triggers on proposals in the changing transaction (tracker.core.tally)

A later migration that rebuilds the proposals table on SQLite (a batch operation) drops these
triggers with it and must make them again; tests/core/test_tally.py fails when they are gone.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 19:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# PostgreSQL: one statement-level trigger per kind of change, over the rows it changed.
PG_FUNCTIONS = {
    "insert": (
        "INSERT INTO status_tally (call_id, sector_id, status, delta) "
        "SELECT call_id, sector_id, status, count(*) FROM new_rows "
        "GROUP BY call_id, sector_id, status"
    ),
    "delete": (
        "INSERT INTO status_tally (call_id, sector_id, status, delta) "
        "SELECT call_id, sector_id, status, -count(*) FROM old_rows "
        "GROUP BY call_id, sector_id, status"
    ),
    "update": (
        "INSERT INTO status_tally (call_id, sector_id, status, delta) "
        "SELECT call_id, sector_id, status, sum(delta) FROM ("
        "SELECT o.call_id, o.sector_id, o.status, -1 AS delta FROM old_rows o "
        "JOIN new_rows n ON n.id = o.id WHERE (o.call_id, o.sector_id, o.status) "
        "IS DISTINCT FROM (n.call_id, n.sector_id, n.status) "
        "UNION ALL SELECT n.call_id, n.sector_id, n.status, 1 FROM old_rows o "
        "JOIN new_rows n ON n.id = o.id WHERE (o.call_id, o.sector_id, o.status) "
        "IS DISTINCT FROM (n.call_id, n.sector_id, n.status)"
        ") AS moved GROUP BY call_id, sector_id, status HAVING sum(delta) <> 0"
    ),
}
PG_REFERENCING = {
    "insert": "NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}

LINE = "INSERT INTO status_tally (call_id, sector_id, status, delta) VALUES "
SQLITE_TRIGGERS = {
    "insert": (
        f"AFTER INSERT ON proposals BEGIN {LINE}(new.call_id, new.sector_id, new.status, 1); END"
    ),
    "delete": (
        f"AFTER DELETE ON proposals BEGIN {LINE}(old.call_id, old.sector_id, old.status, -1); END"
    ),
    "update": (
        "AFTER UPDATE OF call_id, sector_id, status ON proposals "
        "WHEN old.call_id IS NOT new.call_id OR old.sector_id IS NOT new.sector_id "
        "OR old.status IS NOT new.status BEGIN "
        f"{LINE}(old.call_id, old.sector_id, old.status, -1), "
        "(new.call_id, new.sector_id, new.status, 1); END"
    ),
}


def upgrade():
    op.create_table(
        "status_tally",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("sector_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_tally")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for kind, body in PG_FUNCTIONS.items():
            op.execute(
                f"CREATE FUNCTION status_tally_{kind}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {body}; RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER status_tally_{kind} AFTER {kind.upper()} ON proposals "
                f"REFERENCING {PG_REFERENCING[kind]} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION status_tally_{kind}()"
            )
    else:
        for kind, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER status_tally_{kind} {body}")
    op.execute(
        "INSERT INTO status_tally (call_id, sector_id, status, delta) "
        "SELECT call_id, sector_id, status, count(*) FROM proposals "
        "GROUP BY call_id, sector_id, status"
    )


def downgrade():
    dialect = op.get_bind().dialect.name
    for kind in ("insert", "delete", "update"):
        op.execute(
            f"DROP TRIGGER IF EXISTS status_tally_{kind}"
            + (" ON proposals" if dialect == "postgresql" else "")
        )
        if dialect == "postgresql":
            op.execute(f"DROP FUNCTION IF EXISTS status_tally_{kind}()")
    op.drop_table("status_tally")
