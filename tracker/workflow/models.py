"""The append-only history of status changes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.core.db import UTCDateTime
from tracker.extensions import db


class StatusChange(db.Model):
    """One status change of one proposal; rows are only ever appended, each chained by hash."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), index=True)
    seq: Mapped[int]
    from_status: Mapped[str | None] = mapped_column(sa.String(32))
    to_status: Mapped[str] = mapped_column(sa.String(32))
    transition: Mapped[str] = mapped_column(sa.String(40))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Shown to the applicant (a reason, a request, an answer).
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    # Seen by staff only.
    internal_note: Mapped[str] = mapped_column(sa.Text, default="")
    imported: Mapped[bool] = mapped_column(default=False)
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
    # Fingerprint of the history key the row's HMAC was made with; NULL for the plain SHA-256
    # rows written before keyed chains (tracker.workflow.history).
    key_id: Mapped[str | None] = mapped_column(sa.String(16))

    actor: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("proposal_id", "seq", name="uq_status_changes_proposal_seq"),
        sa.Index("ix_status_changes_to_status_created_at", "to_status", "created_at"),
        sa.CheckConstraint("seq >= 1", name="seq_positive"),
        sa.CheckConstraint("(seq = 1) = (prev_hash IS NULL)", name="chain_start"),
    )

    def __repr__(self) -> str:
        return f"<StatusChange {self.proposal_id}#{self.seq} {self.from_status}->{self.to_status}>"


class HistorySeal(db.Model):
    """A keyed seal over the last unkeyed row of a chain written before the history key."""

    __tablename__ = "history_seals"

    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), primary_key=True)
    seq: Mapped[int]
    head_hash: Mapped[str] = mapped_column(sa.String(64))
    key_id: Mapped[str] = mapped_column(sa.String(16))
    mac: Mapped[str] = mapped_column(sa.String(64))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)
