"""E-mails: written from templates in the recipient's language, delivered by the worker.

``queue`` writes a message to the outbox in the caller's transaction (so a rolled-back change
sends nothing). ``deliver`` sends one batch of due messages: over SMTP (the ``TRACKER_MAIL_*``
settings), or, with no mail server configured, as ``.eml`` files in ``instance/mail`` so a new
user can read them. Several workers never send a message twice: a batch is claimed with one
UPDATE (``FOR UPDATE SKIP LOCKED`` on PostgreSQL). Delivery is at least once: a worker killed
after the mail server accepted a message but before it was marked sent sends it again once its
claim lapses.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale

from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

BATCH = 20
LEASE = timedelta(minutes=5)  # a claim older than this was a worker that died: reclaim it


@dataclass
class Composed:
    """A message as its recipient reads it: subject, paragraphs, an optional quoted text
    (the agency's reason, the applicant's answer) and a link to the page concerned."""

    subject: str
    paragraphs: list[str] = field(default_factory=list)
    quote: str = ""
    quote_label: str = ""
    link: str = ""
    link_label: str = ""


def locale_of(user) -> str:
    language = getattr(user, "language", None) or "en"
    return "en_GB" if language == "en" else language


def recipient_locale(user):
    """Compose in the recipient's language (English, French or German)."""
    return force_locale(locale_of(user))


def page_url(endpoint: str, **values) -> str:
    """An absolute link to a page, for e-mails (the request's host, or TRACKER_BASE_URL)."""
    base = current_app.config.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def render(composed: Composed, user) -> tuple[str, str]:
    """The plain-text and HTML bodies, in the recipient's language."""
    context = {
        "message": composed,
        "user": user,
        "agency": _agency_name(),
        "preferences_url": page_url("notifications.preferences"),
    }
    return (
        render_template("emails/message.txt", **context),
        render_template("emails/message.html", **context),
    )


def queue(user, kind: str, composed: Composed, *, dedupe_key: str | None = None, address=None):
    """Write an e-mail to the outbox (in the caller's transaction); None when already queued."""
    if dedupe_key and db.session.scalar(
        sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    ):
        return None
    with recipient_locale(user):
        text, html = render(composed, user)
    message = OutboxMessage(
        user_id=getattr(user, "id", None),
        to_address=address or user.email,
        kind=kind,
        subject=composed.subject[:300],
        body_text=text,
        body_html=html,
        dedupe_key=dedupe_key,
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    return message


# --- delivery --------------------------------------------------------------------------------


def _claim(worker: str) -> list[int]:
    """Take up to a batch of due messages for this worker, atomically (never two workers)."""
    now = utcnow()
    due = (
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.pending, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(BATCH)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = db.session.scalars(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(due.scalar_subquery()),
            OutboxMessage.status == OutboxStatus.pending,
        )
        .values(status=OutboxStatus.sending, locked_at=now, locked_by=worker)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(claimed)


def reclaim_stale(now=None) -> int:
    """Messages a dead worker had claimed go back to the queue (at-least-once delivery)."""
    now = now or utcnow()
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.sending, OutboxMessage.locked_at < now - LEASE)
        .values(status=OutboxStatus.pending, locked_by=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount or 0


def _email(message: OutboxMessage) -> EmailMessage:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(idstring=f"tracker-{message.id}")
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


class _FileSender:
    """With no mail server: each message as an .eml file in instance/mail."""

    def __init__(self):
        self.folder = Path(current_app.instance_path) / "mail"
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, email: EmailMessage, message: OutboxMessage) -> None:
        stamp = utcnow().strftime("%Y%m%d-%H%M%S")
        (self.folder / f"{stamp}-{message.id:06d}.eml").write_bytes(bytes(email))

    def close(self):
        pass


class _SmtpSender:
    def __init__(self):
        config = current_app.config
        self.smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20)
        if config.get("MAIL_USE_TLS"):
            self.smtp.starttls()
        if config.get("MAIL_USERNAME"):
            self.smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")

    def send(self, email: EmailMessage, message: OutboxMessage) -> None:
        self.smtp.send_message(email)

    def close(self):
        with contextlib.suppress(smtplib.SMTPException, OSError):
            self.smtp.quit()


def _retry(message: OutboxMessage, error: str) -> None:
    config = current_app.config
    message.attempts += 1
    message.last_error = error[:2000]
    message.locked_at, message.locked_by = None, None
    if message.attempts >= config["MAIL_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.failed
        log.warning("e-mail %s to %s failed for good: %s", message.id, message.to_address, error)
    else:
        backoff = config["MAIL_RETRY_SECONDS"] * 2 ** (message.attempts - 1)
        message.status = OutboxStatus.pending
        message.next_attempt_at = utcnow() + timedelta(seconds=backoff)


def deliver(worker: str | None = None) -> int:
    """Send one batch of due messages; returns how many were sent."""
    worker = worker or f"{socket.gethostname()}:{id(object())}"
    ids = _claim(worker)
    if not ids:
        return 0
    messages = list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id.in_(ids))))
    try:
        sender = _SmtpSender() if current_app.config.get("MAIL_SERVER") else _FileSender()
    except (smtplib.SMTPException, OSError) as error:
        for message in messages:
            _retry(message, f"the mail server could not be reached: {error}")
        db.session.commit()
        return 0
    sent = 0
    try:
        for message in messages:
            try:
                sender.send(_email(message), message)
            except (smtplib.SMTPException, OSError) as error:
                _retry(message, str(error))
            else:
                message.status = OutboxStatus.sent
                message.sent_at = utcnow()
                message.attempts += 1
                message.locked_at, message.locked_by = None, None
                sent += 1
            db.session.commit()  # each message's outcome on its own
    finally:
        sender.close()
    return sent


def send_again(message: OutboxMessage) -> None:
    """An administrator puts a failed message back in the queue."""
    message.status = OutboxStatus.pending
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.last_error = ""


def _agency_name() -> str:
    """The agency's name as its administrator set it (the configured name until then)."""
    from tracker.identity.operations import current_identity

    return current_identity().name
