"""One row per change of recorded data, with the old and new value of each field."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.core.db import UTCDateTime
from tracker.core.time import utcnow
from tracker.extensions import db


class AuditEntry(db.Model):
    """A change to an assessment, score, checklist, contract, call, role or form section.

    ``changes`` maps each changed field (named as in its form) to ``[old, new]``, both plain
    text. ``proposal_version`` is the version of the proposal the change was made from, so a
    page opened at version *v* can list everything that changed since (entries with
    ``proposal_version >= v``).
    """

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[str] = mapped_column(sa.String(60))
    action: Mapped[str] = mapped_column(sa.String(20))
    proposal_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE")
    )
    proposal_version: Mapped[int | None]
    changes: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.Index("ix_audit_entries_proposal", "proposal_id", "id"),
        sa.Index("ix_audit_entries_object", "object_type", "object_id", "id"),
        sa.CheckConstraint("action IN ('created', 'updated', 'deleted')", name="action"),
    )

    def __repr__(self) -> str:
        return f"<AuditEntry {self.object_type}:{self.object_id} {self.action}>"
