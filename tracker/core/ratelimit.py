"""A rate-limit storage in the tracker's own database, shared by every worker and server.

Flask-Limiter counts attempts in a storage; its in-memory one counts per process, so four
gunicorn workers let four times the limit through. This storage (``tracker-sql://``, the
default) keeps fixed-window counters in the ``rate_limit_counters`` table, incremented with one
atomic upsert on its own connection (committed at once, whatever the request does after).
Installations with Redis can set ``TRACKER_RATELIMIT_STORAGE_URI=redis://...`` instead.
"""

from __future__ import annotations

import random
import time

import sqlalchemy as sa
from limits.storage import Storage
from sqlalchemy.dialects import postgresql, sqlite

from tracker.core.db import Base

counters = sa.Table(
    "rate_limit_counters",
    Base.metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)


class DatabaseStorage(Storage):
    """Fixed-window counters in the application's database (``tracker-sql://``)."""

    STORAGE_SCHEME = ["tracker-sql"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return sa.exc.SQLAlchemyError

    @staticmethod
    def _engine():
        from tracker.extensions import db

        return db.engine

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        engine = self._engine()
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        statement = insert(counters).values(key=key, hits=amount, expires_at=now + expiry)
        expired = counters.c.expires_at <= now
        statement = statement.on_conflict_do_update(
            index_elements=[counters.c.key],
            set_={
                "hits": sa.case((expired, amount), else_=counters.c.hits + amount),
                "expires_at": sa.case((expired, now + expiry), else_=counters.c.expires_at),
            },
        ).returning(counters.c.hits)
        with engine.begin() as connection:
            hits = connection.execute(statement).scalar_one()
            if random.random() < 0.01:  # now and then, forget windows that are over
                connection.execute(sa.delete(counters).where(counters.c.expires_at <= now))
        return hits

    def _row(self, key: str):
        with self._engine().connect() as connection:
            return connection.execute(
                sa.select(counters.c.hits, counters.c.expires_at).where(counters.c.key == key)
            ).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        if row is None or row.expires_at <= time.time():
            return 0
        return row.hits

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        if row is None or row.expires_at <= time.time():
            return time.time()
        return row.expires_at

    def check(self) -> bool:
        try:
            with self._engine().connect() as connection:
                connection.execute(sa.select(1))
        except Exception:
            return False
        return True

    def reset(self) -> int | None:
        with self._engine().begin() as connection:
            return connection.execute(sa.delete(counters)).rowcount

    def clear(self, key: str) -> None:
        with self._engine().begin() as connection:
            connection.execute(sa.delete(counters).where(counters.c.key == key))
