"""How many proposals each call, sector and status has, kept by the database itself.

The queue's status tabs count the proposals of every status. Counting them means reading every
proposal's index entry: 11 ms at 100,000 on PostgreSQL, after every change anywhere. Instead,
triggers on ``proposals`` (migration 0019) write a line to this ledger for every proposal added,
removed or moved to another call, sector or status, in the same transaction as the change: +1
for where it is now, -1 for where it was. A count is the sum of its lines.

Lines are only ever added by the triggers, so writers never wait for one another on a counter
row (two people moving proposals in opposite directions would otherwise lock the same two rows
in opposite orders). A reader that finds many lines folds them into one per call, sector and
status (:func:`fold`): on PostgreSQL in one statement that deletes the lines it read and writes
their sums (a line added meanwhile is not deleted and stays), on SQLite under its write lock.
Folding changes no count, so it runs outside the request's transaction and moves no generation.
"""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker.core.db import Base

# More lines than this beyond one per call, sector and status, and a reader folds them.
FOLD_AFTER = 2000


class StatusTally(Base):
    __tablename__ = "status_tally"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.Integer)
    sector_id: Mapped[int | None] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(32))
    delta: Mapped[int] = mapped_column(sa.Integer)


_table = StatusTally.__table__


def counts(connection, *, hidden, calls=None, sector: int | None = None) -> dict[str, int]:
    """The number of proposals in each status (those of ``hidden`` left out), for the given
    calls (a list, a subquery, or None for all) and sector; folds the ledger when it is long."""
    query = sa.select(_table.c.status, sa.func.sum(_table.c.delta), sa.func.count()).where(
        _table.c.status.not_in(hidden)
    )
    if calls is not None:
        query = query.where(_table.c.call_id.in_(calls))
    if sector is not None:
        query = query.where(_table.c.sector_id == sector)
    found: dict[str, int] = {}
    lines = 0
    for status, total, n in connection.execute(query.group_by(_table.c.status)):
        lines += n
        if total:
            found[status] = int(total)
    if lines > FOLD_AFTER:
        groups = connection.execute(
            sa.select(sa.func.count()).select_from(
                sa.select(_table.c.call_id, _table.c.sector_id, _table.c.status)
                .group_by(_table.c.call_id, _table.c.sector_id, _table.c.status)
                .subquery()
            )
        ).scalar_one()
        if lines > groups + FOLD_AFTER:
            fold(connection.engine)
    return found


def fold(engine: sa.Engine) -> None:
    """One line per call, sector and status (none where the sum is nought); no count moves."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "WITH gone AS (DELETE FROM status_tally "
                "RETURNING call_id, sector_id, status, delta) "
                "INSERT INTO status_tally (call_id, sector_id, status, delta) "
                "SELECT call_id, sector_id, status, sum(delta) FROM gone "
                "GROUP BY call_id, sector_id, status HAVING sum(delta) <> 0"
            )
        return
    raw = engine.raw_connection()
    try:
        raw.driver_connection.isolation_level = None  # our own BEGIN and COMMIT
        cursor = raw.cursor()
        # The write lock first; when a writer holds it, fold another time.
        cursor.execute("PRAGMA busy_timeout=0")
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return
        finally:
            cursor.execute("PRAGMA busy_timeout=10000")
        try:
            _fold_sqlite(cursor)
        except sqlite3.Error:
            cursor.execute("ROLLBACK")
            raise
    finally:
        raw.driver_connection.isolation_level = ""
        raw.close()


def _fold_sqlite(cursor) -> None:
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS status_tally_sums "
        "(call_id INTEGER, sector_id INTEGER, status VARCHAR(32), delta INTEGER)"
    )
    cursor.execute(
        "INSERT INTO status_tally_sums SELECT call_id, sector_id, status, sum(delta) "
        "FROM status_tally GROUP BY call_id, sector_id, status HAVING sum(delta) <> 0"
    )
    cursor.execute("DELETE FROM status_tally")
    cursor.execute(
        "INSERT INTO status_tally (call_id, sector_id, status, delta) "
        "SELECT call_id, sector_id, status, delta FROM status_tally_sums"
    )
    cursor.execute("DELETE FROM status_tally_sums")
    cursor.execute("COMMIT")
