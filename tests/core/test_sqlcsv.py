"""CSV written by the database gives what the Python writer gives, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from tracker.core import sqlcsv
from tracker.core.db import UTCDateTime
from tracker.core.spreadsheets import Column, csv_lines, plain
from tracker.core.time import to_local
from tracker.extensions import db

TEXTS = [
    "plain words",
    '=HYPERLINK("http://evil.example")',
    "+1",
    "-2",
    "@SUM(A1)",
    "\tTab first",
    "\rReturn first",
    "",
    "a, comma",
    'a "quote"',
    "two\nlines",
    "Sàrl Ünïcode €",
    "€ first, then =",
    "ß",
    " =not first",
]


def _instants() -> list[datetime]:
    """Every half hour of the two days around each change of time, and some ordinary days."""
    found = []
    for year in (2016, 2021, 2024, 2026, 2030):
        for month, first in ((3, 24), (10, 24)):
            start = datetime(year, month, first, tzinfo=UTC)
            found += [start + timedelta(minutes=30 * k) for k in range(8 * 48)]
        found += [datetime(year, m, 1, 0, 59, 59, 999999, tzinfo=UTC) for m in range(1, 13)]
        found += [
            datetime(year, 12, 31, 23, 30, tzinfo=UTC),
            datetime(year, 6, 30, 22, 5, tzinfo=UTC),
        ]
    return found


def _values(name: str, column: sa.Column, rows: list) -> sa.CTE:
    return sa.values(column, name=name).data([(value,) for value in rows]).cte(name)


def test_luxembourg_time_is_the_zoneinfo_one_around_every_change_of_time(ctx):
    dialect = db.engine.dialect.name
    instants = sorted(_instants())
    found = []
    for start in range(0, len(instants), 400):
        chunk = _values("instants", sa.column("at", UTCDateTime), instants[start : start + 400])
        found += db.session.scalars(
            sa.select(sqlcsv.local_minute_cell(chunk.c.at, dialect)).order_by(chunk.c.at)
        )
    expected = [to_local(value).strftime("%Y-%m-%d %H:%M") for value in instants]
    wrong = [(i, e, g) for i, e, g in zip(instants, expected, found, strict=True) if e != g]
    assert not wrong, wrong[:5]


def test_text_and_amount_cells_are_those_of_the_python_writer(ctx):
    dialect = db.engine.dialect.name
    amounts = [
        Decimal("125000.00"),
        Decimal("0.50"),
        Decimal("-3.00"),
        None,
        Decimal("9999999999.99"),
    ]
    texts = _values("texts", sa.column("value", sa.Text), TEXTS)
    money = _values("amounts", sa.column("value", sa.Numeric(12, 2)), amounts)
    got = list(db.session.scalars(sa.select(sqlcsv.text_cell(texts.c.value, dialect))))
    assert sorted(got, key=str) == sorted((plain(t) or None for t in TEXTS), key=str)
    got = list(db.session.scalars(sa.select(sqlcsv.money_cell(money.c.value, dialect))))
    assert sorted(got, key=str) == sorted((plain(a) or None for a in amounts), key=str)


def test_the_stream_is_byte_for_byte_the_python_csv(ctx):
    # Not a text with a carriage return and no line feed: COPY quotes it, Python's writer (lines
    # ending in a line feed) does not; a CR LF pair is quoted by both.
    texts = [t for t in TEXTS if "\r" not in t] + ["windows\r\nline"]
    rows = list(enumerate(texts))
    table = sa.values(sa.column("n", sa.Integer), sa.column("t", sa.Text), name="rows")
    cte = table.data(rows).cte("rows")
    query = sa.select(
        sa.cast(cte.c.n, sa.Text), sqlcsv.text_cell(cte.c.t, db.engine.dialect.name)
    ).order_by(cte.c.n)
    streamed = b"".join(sqlcsv.stream(query, ["N", "Text"], db.session))
    columns = [Column("n", "N", lambda r: str(r[0])), Column("t", "Text", lambda r: r[1])]
    written = "".join(csv_lines(columns, rows, line_end=sqlcsv.LINE_END)).encode()
    assert streamed == written
