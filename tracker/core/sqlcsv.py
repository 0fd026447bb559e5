"""CSV written by the database: every cell computed in SQL, streamed without Python objects.

A large export spends its time turning rows into Python values and back into text. Here the
query itself returns the text of each cell (labels, amounts with two decimals, Luxembourg times,
formula neutralisation), and the rows go out by ``COPY ... TO STDOUT`` on PostgreSQL or through a
raw cursor and ``csv.writer`` on SQLite. ``tracker.core.spreadsheets.plain`` is the same rule for
exports written in Python; the tests hold the two to the same output.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping

import sqlalchemy as sa

from tracker.core.spreadsheets import FORMULA_PREFIXES, neutralise

LINE_END = "\n"  # what COPY writes; the Python-written exports of the queue use it too
CHUNK = 64 * 1024
FORMULA_CODES = tuple(ord(prefix) for prefix in FORMULA_PREFIXES)


def text_cell(expression, dialect: str):
    """Text as a cell: a leading apostrophe before what a spreadsheet would run as a formula."""
    # The first character's code point, one call (NULL or 0 for an empty text); an empty text
    # becomes NULL: COPY writes NULL as the empty cell and "" for an empty text.
    first = (sa.func.ascii if dialect == "postgresql" else sa.func.unicode)(expression)
    return sa.case(
        (first.in_(FORMULA_CODES), sa.literal("'") + expression),
        else_=sa.func.nullif(expression, ""),
    )


def money_cell(expression, dialect: str):
    """An amount with two decimals and no separators ("125000.00"), as ``plain`` writes it."""
    if dialect == "postgresql":
        return sa.cast(sa.func.round(sa.cast(expression, sa.Numeric), 2), sa.Text)
    # printf writes NULL as 0.00; an unknown amount stays an empty cell.
    return sa.func.iif(expression.is_(None), None, sa.func.printf("%.2f", expression))


def local_minute_cell(expression, dialect: str):
    """A UTC timestamp as Luxembourg wall-clock time, "2021-03-28 03:15".

    SQLite has no time zones: the stored text is UTC, and Luxembourg follows the European rule
    (summer time from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of
    October, which are the first Sundays on or after the 25th). The tests compare this with
    ``zoneinfo`` on every hour around the changes of several years.
    """
    if dialect == "postgresql":
        # A timestamp's text form is "YYYY-MM-DD HH:MM:SS..." (cheaper than to_char).
        return sa.func.left(sa.cast(sa.func.timezone("Europe/Luxembourg", expression), sa.Text), 16)
    # Most days are decided by their month and day; only the last week of March and of October
    # look for the Sunday.
    day = sa.func.substr(expression, 6, 5)  # "MM-DD"
    year = sa.func.substr(expression, 1, 4)
    summer, winter = "+2 hours", "+1 hours"
    offset = sa.case(
        (sa.and_(day >= "04", day < "10-25"), summer),
        (sa.or_(day < "03-25", day >= "11"), winter),
        (
            day < "04",
            sa.case(
                (expression >= sa.func.datetime(year + "-03-25 01:00:00", "weekday 0"), summer),
                else_=winter,
            ),
        ),
        (expression < sa.func.datetime(year + "-10-25 01:00:00", "weekday 0"), summer),
        else_=winter,
    )
    # Without the fraction of a second: SQLite rounds it to milliseconds, so 09:59:59.9999 would
    # read 10:00.
    return sa.func.strftime("%Y-%m-%d %H:%M", sa.func.substr(expression, 1, 19), offset)


def lookup(mapping: Mapping[str, str], name: str):
    """A VALUES list to join for labels (statuses, countries), so no row needs Python; the labels
    are neutralised here, once."""
    pairs = [(key, neutralise(label)) for key, label in mapping.items()] or [("", "")]
    values = sa.values(sa.column("key", sa.Text), sa.column("label", sa.Text), name=name)
    return values.data(pairs).cte(name)


def stream(query: sa.Select, header: list[str], session) -> Iterator[bytes]:
    """The query's rows as CSV bytes in chunks of about 64 KB, header first.

    Every column of ``query`` must already be text (or NULL, written as an empty cell). The
    session's connection is taken when the first row is read (a streamed response reads after
    the view has returned).
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=LINE_END).writerow(header)
    yield buffer.getvalue().encode()
    connection = session.connection()
    dialect = connection.dialect
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    raw = connection.connection.driver_connection
    if dialect.name == "postgresql":
        statement = f"COPY ({compiled.string}) TO STDOUT WITH (FORMAT csv)"
        with raw.cursor() as cursor, cursor.copy(statement, compiled.params) as copy:
            pending = bytearray()
            for data in copy:
                pending += data
                if len(pending) >= CHUNK:
                    yield bytes(pending)
                    pending.clear()
            if pending:
                yield bytes(pending)
        return
    cursor = raw.cursor()
    try:
        params = [compiled.params[name] for name in compiled.positiontup]
        cursor.execute(compiled.string, params)
        writer = csv.writer(buffer, lineterminator=LINE_END)
        while rows := cursor.fetchmany(2000):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(rows)
            yield buffer.getvalue().encode()
    finally:
        cursor.close()
