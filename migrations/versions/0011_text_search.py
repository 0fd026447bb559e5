"""Text search with an index on both databases: a trigram GIN index on PostgreSQL, an FTS5
trigram table kept in step by triggers on SQLite (tracker.core.search)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 12:00:00
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Kept here as written when the migration was made (tracker.core.search says the same).
PG_EXPRESSION = (
    "lower(coalesce(proposals.reference, '') || chr(10) || coalesce(proposals.title, '') "
    "|| chr(10) || coalesce(proposals.lead_name, '') || chr(10) "
    "|| coalesce(proposals.summary, ''))"
)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            f"CREATE INDEX ix_proposals_search_trgm ON proposals "
            f"USING gin (({PG_EXPRESSION}) gin_trgm_ops)"
        )
    elif dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE proposal_search USING fts5(reference, title, lead_name, "
            "summary, content='proposals', content_rowid='id', tokenize='trigram')"
        )
        op.execute(
            "CREATE TRIGGER proposal_search_insert AFTER INSERT ON proposals BEGIN "
            "INSERT INTO proposal_search(rowid, reference, title, lead_name, summary) "
            "VALUES (new.id, new.reference, new.title, new.lead_name, new.summary); END"
        )
        op.execute(
            "CREATE TRIGGER proposal_search_delete AFTER DELETE ON proposals BEGIN "
            "INSERT INTO proposal_search(proposal_search, rowid, reference, title, lead_name, "
            "summary) VALUES ('delete', old.id, old.reference, old.title, old.lead_name, "
            "old.summary); END"
        )
        op.execute(
            "CREATE TRIGGER proposal_search_update AFTER UPDATE OF reference, title, lead_name, "
            "summary ON proposals BEGIN "
            "INSERT INTO proposal_search(proposal_search, rowid, reference, title, lead_name, "
            "summary) VALUES ('delete', old.id, old.reference, old.title, old.lead_name, "
            "old.summary); "
            "INSERT INTO proposal_search(rowid, reference, title, lead_name, summary) "
            "VALUES (new.id, new.reference, new.title, new.lead_name, new.summary); END"
        )
        op.execute("INSERT INTO proposal_search(proposal_search) VALUES ('rebuild')")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_proposals_search_trgm")
    elif dialect == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS proposal_search_{name}")
        op.execute("DROP TABLE IF EXISTS proposal_search")
