"""Notifications shown in the app (and sent by e-mail when a mail server is configured)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import UTCDateTime
from tracker.core.enums import RichEnum, enum_column
from tracker.core.time import utcnow
from tracker.extensions import db


class Kind(RichEnum):
    """What a message is about; each person chooses per kind how they hear of it."""

    status_change = "status_change"
    information_requested = "information_requested"
    deadline = "deadline"
    answer_received = "answer_received"
    assigned = "assigned"
    stage_reached = "stage_reached"
    divergence = "divergence"
    score_reminder = "score_reminder"
    answer_reminder = "answer_reminder"
    report_due = "report_due"
    report_received = "report_received"
    account = "account"  # password resets, verification: always by e-mail, never turned off

    __titles__ = {
        "status_change": _l("A proposal's status changed"),
        "information_requested": _l("The agency asks for information"),
        "deadline": _l("A deadline is near"),
        "answer_received": _l("An applicant answered your request"),
        "assigned": _l("A proposal was assigned to you for scoring"),
        "stage_reached": _l("A proposal reached your stage"),
        "divergence": _l("Scores diverge: a further score is needed"),
        "score_reminder": _l("A score you were asked for is still missing"),
        "answer_reminder": _l("A request for information is still unanswered"),
        "report_due": _l("A report or a condition is due"),
        "report_received": _l("A company submitted a report"),
        "account": _l("Your account (password, address)"),
    }


class Delivery(RichEnum):
    """How a person hears of a kind of message."""

    immediately = "immediately"
    digest = "digest"
    in_app = "in_app"

    __titles__ = {
        "immediately": _l("By e-mail, at once"),
        "digest": _l("In a daily e-mail digest"),
        "in_app": _l("In the tracker only"),
    }


class Notification(db.Model):
    """One message to one user, usually about a proposal's status."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    proposal_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE")
    )
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(sa.String(40), default="status_change")
    # A link to the page concerned (a path), and whether it waits for the next daily digest.
    link: Mapped[str] = mapped_column(sa.String(500), default="")
    digest_pending: Mapped[bool] = mapped_column(default=False)
    # A reminder is written once: the worker's schedule names it (``deadline:7:<proposal>``).
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200))

    proposal = relationship("Proposal")

    __table_args__ = (
        sa.Index("ix_notifications_user_read", "user_id", "read_at"),
        sa.Index("ix_notifications_digest", "digest_pending", "user_id"),
        sa.UniqueConstraint("user_id", "dedupe_key", name="uq_notifications_dedupe"),
    )


class Preference(db.Model):
    """How one person hears of one kind of message (immediately, in a digest, in the app)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    delivery: Mapped[Delivery] = mapped_column(enum_column(Delivery, "delivery"))


class OutboxStatus(RichEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"

    __titles__ = {
        "pending": _l("Waiting to be sent"),
        "sending": _l("Being sent"),
        "sent": _l("Sent"),
        "failed": _l("Failed"),
    }
    __css__ = {"pending": "info", "sending": "warning", "sent": "success", "failed": "danger"}


class OutboxMessage(db.Model):
    """An e-mail written in the same transaction as the change it tells of, sent by the worker.

    A rolled-back change leaves no message; a committed one is sent, retried with backoff while
    the mail server is down, and marked failed after a set number of tries (an administrator
    can send it again). ``dedupe_key`` makes a reminder go out once.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    to_address: Mapped[str] = mapped_column(sa.String(254))
    kind: Mapped[str] = mapped_column(sa.String(40))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, "outbox_status"), default=OutboxStatus.pending
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(sa.String(80))
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)

    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)
