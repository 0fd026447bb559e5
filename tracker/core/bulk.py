"""Writing many rows at once: COPY on PostgreSQL, executemany on SQLite, ids given beforehand.

An import of a hundred thousand proposals spends its time building and parsing INSERT
statements. Here each value goes through its column type's own conversion (the same as an ORM
insert) and the rows go to the database as COPY data on PostgreSQL, or as one prepared statement
run for every row on SQLite. Ids are taken from the table's sequence first (PostgreSQL) or after
the largest one (SQLite, under the transaction's write lock), so the rows that point to them
can be written the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa


def new_ids(connection: sa.Connection, table: sa.Table, count: int) -> list[int]:
    """``count`` ids for new rows of ``table``, never handed out again."""
    if count == 0:
        return []
    if connection.dialect.name == "postgresql":
        sequence = connection.scalar(
            sa.select(sa.func.pg_get_serial_sequence(table.name, table.c.id.name))
        )
        return list(
            connection.scalars(
                sa.select(sa.func.nextval(sequence)).select_from(sa.func.generate_series(1, count))
            )
        )
    # SQLite: a write statement (here one that changes nothing) takes the database's only write
    # lock for the rest of the transaction, so no one else can take the ids found next.
    connection.execute(sa.update(table).values(id=table.c.id).where(sa.false()))
    largest = connection.scalar(sa.select(sa.func.max(table.c.id))) or 0
    return list(range(largest + 1, largest + 1 + count))


def insert_rows(connection: sa.Connection, table: sa.Table, rows: Sequence[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys) with the column types' conversions and the
    columns' Python defaults."""
    if not rows:
        return
    dialect = connection.dialect
    given = list(rows[0])
    defaults = {
        column.name: column.default.arg
        for column in table.columns
        if column.name not in given and column.default is not None and column.default.is_scalar
    }
    callables = {
        column.name: column.default.arg
        for column in table.columns
        if column.name not in given and column.default is not None and column.default.is_callable
    }
    names = given + list(defaults) + list(callables)
    processors = [
        (index, process)
        for index, name in enumerate(names)
        if (process := table.c[name].type._cached_bind_processor(dialect)) is not None
    ]
    fixed = list(defaults.values())
    made = list(callables.values())

    def converted(row: dict) -> list:
        values = [row[name] for name in given]
        values += fixed
        values += [make(None) for make in made]
        for index, process in processors:
            if values[index] is not None:
                values[index] = process(values[index])
        return values

    # Names from the table's metadata, never from input.
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    if dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        statement = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(converted(row))
        return
    marks = ", ".join("?" for _ in names)
    statement = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})"  # noqa: S608
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.executemany(statement, [converted(row) for row in rows])
    finally:
        cursor.close()
