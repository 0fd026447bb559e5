"""The worker: delivers the outbox, and on a schedule writes reminders and daily digests.

``tracker worker`` runs ``tick`` every few seconds. Reminders and digests fall due at
``TRACKER_DIGEST_HOUR`` o'clock Luxembourg time on their day, and each is written once (its
dedupe key names what it reminds of), however many workers run and however often they tick.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time as clock
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from tracker.auth.models import User
from tracker.core.time import LUXEMBOURG, local_date_at, utcnow
from tracker.extensions import db
from tracker.notifications import mail
from tracker.notifications.mail import Composed, page_url
from tracker.notifications.models import Kind, Notification
from tracker.notifications.operations import members_of, notify

log = logging.getLogger(__name__)


def _local_day(moment: datetime) -> date:
    return moment.astimezone(LUXEMBOURG).date()


def _due_on(day: date, now: datetime) -> bool:
    """Whether something falling due on this Luxembourg day is due now (the day's hour has
    come) and not older than a day (a worker stopped for a week does not send stale news)."""
    start = local_date_at(day, current_app.config["DIGEST_HOUR"])
    return start <= now < start + timedelta(days=1)


# --- reminders -------------------------------------------------------------------------------


def deadline_reminders(now: datetime) -> int:
    """Drafts whose deadline is 7 days and 1 day away: their applicants are reminded."""
    from tracker.programmes.models import Call
    from tracker.proposals.models import Proposal
    from tracker.proposals.operations import deadline_for
    from tracker.workflow.definitions import workflows

    editable = {
        key for w in workflows().values() for key, s in w.states.items() if s.applicant_edits
    }
    days = sorted(current_app.config["REMINDER_DEADLINE_DAYS"])
    horizon = now + timedelta(days=max(days) + 1)
    soon = lambda column: column.between(now, horizon)  # noqa: E731
    candidates = db.session.scalars(
        sa.select(Proposal)
        .join(Call, Call.id == Proposal.call_id)
        .where(
            Proposal.status.in_(editable),
            sa.or_(
                soon(Call.closes_at),
                soon(Call.full_proposal_closes_at),
                soon(Proposal.deadline_extended_to),
            ),
        )
        .options(selectinload(Proposal.call))
    )
    written = 0
    for proposal in candidates:
        deadline = deadline_for(proposal).at
        if deadline is None or deadline <= now:
            continue
        for before in days:
            if not _due_on(_local_day(deadline) - timedelta(days=before), now):
                continue
            key = f"deadline:{before}:{proposal.id}:{deadline:%Y%m%d%H%M}"
            written += len(_remind_deadline(proposal, deadline, key))
    return written


def _remind_deadline(proposal, deadline: datetime, key: str):
    def compose(user):
        when = format_datetime(deadline, "EEEE d MMMM y, HH:mm")
        return Composed(
            subject=_(
                "%(ref)s: the deadline is %(when)s", ref=proposal.display_reference, when=when
            ),
            paragraphs=[
                _(
                    "Your draft “%(title)s” has not been submitted yet. Submissions close on "
                    "%(when)s (Luxembourg time).",
                    title=proposal.display_title,
                    when=when,
                )
            ],
            link=page_url("proposals.show", proposal_id=proposal.id),
            link_label=_("Open the draft"),
        )

    return notify(
        members_of(proposal.organisation_id),
        Kind.deadline.value,
        compose,
        proposal=proposal,
        dedupe=key,
    )


def score_reminders(now: datetime) -> int:
    """Reviewers assigned some days ago who have not scored a proposal still in scoring."""
    from tracker.proposals.models import Proposal
    from tracker.review.models import ReviewerAssignment, Score
    from tracker.workflow.definitions import states_in_group

    after = current_app.config["REMINDER_SCORE_DAYS"]
    scored = sa.exists().where(
        Score.proposal_id == ReviewerAssignment.proposal_id,
        Score.reviewer_id == ReviewerAssignment.reviewer_id,
    )
    rows = db.session.execute(
        sa.select(ReviewerAssignment, Proposal)
        .join(Proposal, Proposal.id == ReviewerAssignment.proposal_id)
        .where(
            Proposal.status.in_(states_in_group("scoring")),
            ReviewerAssignment.assigned_at <= now - timedelta(days=after - 1),
            ~scored,
        )
        .options(selectinload(ReviewerAssignment.reviewer))
    ).all()
    written = 0
    for assignment, proposal in rows:
        if not _due_on(_local_day(assignment.assigned_at) + timedelta(days=after), now):
            continue

        def compose(user, proposal=proposal):
            return Composed(
                subject=_("%(ref)s still waits for your score", ref=proposal.display_reference),
                paragraphs=[
                    _(
                        "You were asked to score %(ref)s, “%(title)s”, %(days)s days ago.",
                        ref=proposal.display_reference,
                        title=proposal.display_title,
                        days=after,
                    )
                ],
                link=page_url("review.proposal", proposal_id=proposal.id),
                link_label=_("Score the proposal"),
            )

        written += len(
            notify(
                [assignment.reviewer],
                Kind.score_reminder.value,
                compose,
                proposal=proposal,
                dedupe=f"score:{assignment.id}",
            )
        )
    return written


def answer_reminders(now: datetime) -> int:
    """Requests for information unanswered after some days: the applicant is reminded."""
    from tracker.proposals.models import Proposal
    from tracker.workflow.definitions import states_in_group
    from tracker.workflow.models import StatusChange

    after = current_app.config["REMINDER_ANSWER_DAYS"]
    waiting = states_in_group("info_requested")
    last = (
        sa.select(StatusChange.proposal_id, sa.func.max(StatusChange.seq).label("seq"))
        .group_by(StatusChange.proposal_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Proposal, StatusChange)
        .join(last, last.c.proposal_id == Proposal.id)
        .join(
            StatusChange,
            sa.and_(StatusChange.proposal_id == Proposal.id, StatusChange.seq == last.c.seq),
        )
        .where(
            Proposal.status.in_(waiting),
            StatusChange.to_status.in_(waiting),
            StatusChange.created_at <= now - timedelta(days=after - 1),
        )
    ).all()
    written = 0
    for proposal, asked in rows:
        if not _due_on(_local_day(asked.created_at) + timedelta(days=after), now):
            continue

        def compose(user, proposal=proposal, asked=asked):
            return Composed(
                subject=_(
                    "%(ref)s: the agency still waits for your answer",
                    ref=proposal.display_reference,
                ),
                paragraphs=[
                    _(
                        "On %(day)s the agency asked for more information about “%(title)s”. "
                        "The review goes on once you answer.",
                        day=format_datetime(asked.created_at, "d MMMM y"),
                        title=proposal.display_title,
                    )
                ],
                quote=asked.comment or "",
                link=page_url("proposals.show", proposal_id=proposal.id),
                link_label=_("Answer in the tracker"),
            )

        written += len(
            notify(
                members_of(proposal.organisation_id),
                Kind.answer_reminder.value,
                compose,
                proposal=proposal,
                dedupe=f"answer:{proposal.id}:{asked.seq}",
            )
        )
    return written


# --- digests ---------------------------------------------------------------------------------


def digests(now: datetime) -> int:
    """Once a day, each person who chose digests receives what gathered since the last one."""
    today = _local_day(now)
    if not _due_on(today, now):
        return 0
    user_ids = db.session.scalars(
        sa.select(Notification.user_id).where(Notification.digest_pending.is_(True)).distinct()
    ).all()
    sent = 0
    for user_id in user_ids:
        user = db.session.get(User, user_id)
        notes = list(
            db.session.scalars(
                sa.select(Notification)
                .where(Notification.user_id == user_id, Notification.digest_pending.is_(True))
                .order_by(Notification.created_at, Notification.id)
            )
        )
        if user is not None and user.active:
            with mail.recipient_locale(user):
                composed = Composed(
                    subject=_("Your daily summary: %(count)s messages", count=len(notes)),
                    paragraphs=[
                        _("Since the last summary:"),
                        *[f"• {n.subject}" + (f" ({n.link})" if n.link else "") for n in notes],
                    ],
                    link=page_url("notifications.index"),
                    link_label=_("Open your notifications"),
                )
                mail.queue(user, "digest", composed, dedupe_key=f"digest:{user_id}:{today}")
            sent += 1
        for note in notes:
            note.digest_pending = False
            note.emailed_at = now
    return sent


# --- the loop --------------------------------------------------------------------------------


def _project_reminders(now: datetime) -> int:
    from tracker.projects.notices import project_reminders

    return project_reminders(now, current_app.config.get("REMINDER_REPORT_DAYS", 14))


def schedule(now: datetime | None = None) -> dict[str, int]:
    """Write the reminders and digests due now (each once); commit."""
    now = now or utcnow()
    done = {}
    for name, job in (
        ("deadline reminders", deadline_reminders),
        ("score reminders", score_reminders),
        ("answer reminders", answer_reminders),
        ("project reminders", _project_reminders),
        ("digests", digests),
    ):
        try:
            done[name] = job(now)
            db.session.commit()
        except sa.exc.IntegrityError:
            # Another worker wrote the same reminder meanwhile: it is sent once, by them.
            db.session.rollback()
            done[name] = 0
    return done


def tick(worker: str, now: datetime | None = None) -> int:
    """One round: lapsed claims back in the queue, reminders written, due messages sent."""
    mail.reclaim_stale()
    schedule(now)
    total = 0
    while sent := mail.deliver(worker):
        total += sent
    return total


def run(*, once: bool = False, interval: float = 5.0) -> None:
    """Work until stopped (SIGTERM or Ctrl-C end it after the message being sent)."""
    name = f"{socket.gethostname()}:{os.getpid()}"
    stopping = []

    def stop(signum, frame):
        stopping.append(signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            try:
                sent = tick(name)
                if sent:
                    log.info("sent %s e-mails", sent)
            except sa.exc.OperationalError:
                db.session.rollback()
                log.exception("the database is not reachable; trying again")
            finally:
                db.session.remove()
            if once or stopping:
                return
            waited = 0.0
            while waited < interval and not stopping:
                clock.sleep(0.25)
                waited += 0.25
            if stopping:
                return
    except KeyboardInterrupt:
        return
    finally:
        signal.signal(signal.SIGTERM, previous)
