"""The data's generation: a number that moves after every committed change, for caches.

Pages that many people read again and again (the queue, its counts) keep what they computed for
one generation and use it until the next one. The number lives in the database, so every worker
and every server behind the load balancer sees the same one:

- a session that wrote something (an ORM flush, or an INSERT, UPDATE or DELETE through it) moves
  the generation once, in the same transaction, just before its commit: the new number and the
  new data become visible together (the row is locked only for the commit itself); a reader that
  read the old number and then the new data keeps fresher data under the old number, never old
  data under the new one;
- writes the ORM does not see (the import's COPY) say so with :func:`changed`;
- writes that no cached page shows (sessions seen, kept forms, the outbox) do not count.

The row also holds a random epoch, set when it is created: a database emptied and filled again
(tests, a restore) starts a new epoch, so its first generations are never mistaken for the
numbers of the data before.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracker.core.db import Base

# Tables whose rows no cached page shows: writing them leaves the generation as it is.
UNSHOWN = frozenset(
    {
        "user_sessions",
        "form_stashes",
        "outbox",
        "account_tokens",
        "rate_limit_counters",
        "status_tally",
    }
)
_WROTE = "tracker_generation_wrote"
_MAKE = "tracker_generation_make"


class DataGeneration(Base):
    __tablename__ = "data_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    epoch: Mapped[str] = mapped_column(sa.String(32))


_table = DataGeneration.__table__


def current(session: Session) -> tuple[str, int] | None:
    """The epoch and number now; None before the first change was counted (nothing to key)."""
    row = session.execute(sa.select(_table.c.epoch, _table.c.number).where(_table.c.id == 1))
    found = row.first()
    return (found[0], found[1]) if found else None


def data_state() -> tuple | None:
    """What cached counts and pages of this app are valid for: the database and its generation
    (None when the database has not counted one yet: nothing is cached then). Read once per
    request; a commit in the request forgets it."""
    from flask import g, has_app_context

    from tracker.extensions import db

    if has_app_context() and "data_state" in g:
        return g.data_state
    return remember_state(current(db.session))


def remember_state(found: tuple[str, int] | None) -> tuple | None:
    """The data state for this epoch and number (as :func:`current` gives them), kept for the
    rest of the request: for a caller that read them with something else in one query."""
    from flask import g, has_app_context

    from tracker.extensions import db

    state = None if found is None else (str(db.engine.url), *found)
    if has_app_context():
        g.data_state = state
    return state


def changed(session: Session) -> None:
    """Say that this session's transaction wrote data the ORM did not see."""
    session.info[_WROTE] = True


def advance(engine: sa.Engine) -> None:
    """Move the generation by one, in a transaction of its own (or make the row)."""
    with engine.begin() as connection:
        moved = connection.execute(
            sa.update(_table).where(_table.c.id == 1).values(number=_table.c.number + 1)
        ).rowcount
    if moved:
        return
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(_table).values(id=1, number=1, epoch=secrets.token_hex(16))
            )
    except sa.exc.IntegrityError:  # another process made the row first: move that one
        advance(engine)


def _shown(objects) -> bool:
    return any(getattr(o, "__tablename__", None) not in UNSHOWN for o in objects)


_watched: set = set()


def watch(session_factory, engine_of) -> None:
    """Count the writes of every session the factory makes (``engine_of(session)`` gives the
    engine to move the generation on). Once per factory, however many apps are made."""
    if session_factory in _watched:
        return
    _watched.add(session_factory)

    @event.listens_for(session_factory, "after_flush")
    def _flushed(session, _context):
        if _shown(session.new) or _shown(session.dirty) or _shown(session.deleted):
            session.info[_WROTE] = True

    @event.listens_for(session_factory, "do_orm_execute")
    def _executed(state):
        if state.is_insert or state.is_update or state.is_delete:
            table = getattr(state.statement, "table", None)
            if getattr(table, "name", None) not in UNSHOWN:
                state.session.info[_WROTE] = True

    @event.listens_for(session_factory, "before_commit")
    def _committing(session):
        if session.in_nested_transaction():
            return  # a savepoint: the outer transaction's commit counts
        pending = _shown(session.new) or _shown(session.dirty) or _shown(session.deleted)
        if not (session.info.get(_WROTE) or pending):
            return
        session.info.pop(_WROTE, None)
        moved = (
            session.connection()
            .execute(sa.update(_table).where(_table.c.id == 1).values(number=_table.c.number + 1))
            .rowcount
        )
        if not moved:  # no row yet (an emptied database): made after the commit
            session.info[_MAKE] = True

    @event.listens_for(session_factory, "after_commit")
    def _committed(session):
        from flask import g, has_app_context

        if has_app_context():
            g.pop("data_state", None)  # what this request read before its commit is old now
        if session.info.pop(_MAKE, False):
            advance(engine_of(session))

    @event.listens_for(session_factory, "after_soft_rollback")
    def _rolled_back(session, previous_transaction):
        if previous_transaction.parent is None:  # the whole transaction, not a savepoint
            session.info.pop(_WROTE, None)
            session.info.pop(_MAKE, None)
