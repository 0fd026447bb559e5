"""Text search over proposals (reference, title, company, summary) with an index on both
databases, created by migration 0011 and kept up to date by the database itself:

- PostgreSQL: a trigram (pg_trgm) GIN index on one lower-cased expression of the four columns;
  the query's LIKE uses that same expression, so the planner takes the index.
- SQLite: an FTS5 table with the trigram tokenizer over the same columns (external content,
  kept in step with ``proposals`` by triggers); a phrase query finds a substring.

Words shorter than three characters have no trigram: they are searched with LIKE, as before.
"""

from __future__ import annotations

import sqlalchemy as sa

SEARCH_TABLE = "proposal_search"  # SQLite's FTS5 table (and its shadow tables)

# The exact text of the indexed expression on PostgreSQL (the index and the query share it; a line break between the columns, which a one-line search box never sends, keeps a match inside one column).
PG_EXPRESSION = (
    "lower(coalesce(proposals.reference, '') || chr(10) || coalesce(proposals.title, '') "
    "|| chr(10) || coalesce(proposals.lead_name, '') || chr(10) "
    "|| coalesce(proposals.summary, ''))"
)


def is_search_table(name: str) -> bool:
    return name == SEARCH_TABLE or name.startswith(SEARCH_TABLE + "_")


def matches(proposal_id_column, text: str, dialect: str):
    """A WHERE clause: the proposal's reference, title, company or summary contains the text
    (case folded)."""
    from tracker.proposals.models import Proposal

    words = text.strip()
    if len(words) >= 3 and dialect == "postgresql":
        return sa.literal_column(PG_EXPRESSION).like(f"%{_escape(words.lower())}%", escape="\\")
    if len(words) >= 3 and dialect == "sqlite":
        phrase = '"' + words.replace('"', '""') + '"'
        return proposal_id_column.in_(
            sa.select(sa.literal_column("rowid"))
            .select_from(sa.table(SEARCH_TABLE))
            .where(sa.literal_column(SEARCH_TABLE).op("MATCH")(phrase))
        )
    like = f"%{_escape(words.lower())}%"
    return sa.or_(
        *(
            sa.func.lower(column).like(like, escape="\\")
            for column in (Proposal.reference, Proposal.title, Proposal.lead_name, Proposal.summary)
        )
    )


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """What the migrations compare with the models: not SQLite's internal tables, not the
    search table migration 0011 makes, not the trigram index on an expression."""
    if type_ == "table" and (name.startswith("sqlite_") or is_search_table(name)):
        return False
    return not (type_ == "index" and name == "ix_proposals_search_trgm")
