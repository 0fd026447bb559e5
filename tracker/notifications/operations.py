"""Telling applicants what happened to their proposal."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import gettext as _

from tracker.auth.models import User
from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.workflow.operations import after_transition

log = logging.getLogger(__name__)


def notify(users: list[User], subject: str, body: str, proposal=None) -> list[Notification]:
    """Store a notification for each user and queue the e-mails to go after the commit."""
    notes = [
        Notification(
            user_id=u.id, proposal_id=proposal.id if proposal else None, subject=subject, body=body
        )
        for u in users
    ]
    db.session.add_all(notes)
    if current_app.config.get("MAIL_SERVER") and notes:
        recipients = [u.email for u in users]

        @sa.event.listens_for(db.session(), "after_commit", once=True)
        def _send(session):
            send_mail(recipients, subject, body)

    return notes


def send_mail(recipients: list[str], subject: str, body: str) -> None:
    """Send one plain-text e-mail per recipient; a failure is logged, never shown as an error."""
    config = current_app.config
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            for address in recipients:
                message = EmailMessage()
                message["From"] = config["MAIL_DEFAULT_SENDER"]
                message["To"] = address
                message["Subject"] = subject
                message.set_content(body)
                smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send e-mail %r", subject)


@after_transition
def _tell_applicants(context, change) -> None:
    transition = context.transition
    if not transition.notify_applicant:
        return
    proposal = context.proposal
    members = list(
        db.session.scalars(
            sa.select(User).where(
                User.organisation_id == proposal.organisation_id, User.active.is_(True)
            )
        )
    )
    if not members:
        return
    from tracker.core.templating import state_label

    subject = _(
        "%(ref)s: %(status)s",
        ref=proposal.display_reference,
        status=state_label(change.to_status, applicant=True),
    )
    body = render_template(
        "emails/status_change.txt",
        proposal=proposal,
        change=change,
        transition=transition,
        status=state_label(change.to_status, applicant=True),
    )
    notify(members, subject, body, proposal)


def unread_count(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def recent_for(user: User, limit: int = 50) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_all_read(user: User) -> None:
    db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
