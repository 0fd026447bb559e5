"""Who is told what: applicants of their proposals' steps, staff of what waits for them.

``notify`` stores a message in the app for each person and, by their preference for that kind,
queues an e-mail now, keeps it for the daily digest, or leaves it in the app. Messages are
composed in the recipient's language; internal notes never go into them.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import gettext as _

from tracker.auth.models import Role, User, UserRole
from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.notifications import mail
from tracker.notifications.mail import Composed, page_url, recipient_locale
from tracker.notifications.models import Delivery, Kind, Notification, Preference
from tracker.workflow.operations import after_transition

log = logging.getLogger(__name__)

# Kinds that cannot be turned off or put in a digest.
ALWAYS_BY_EMAIL = {Kind.account.value}
DEFAULT_DELIVERY = Delivery.immediately
# Kinds both receive (the company and the member of staff following a project).
SHARED_KINDS = {Kind.report_due.value}
# Kinds only staff receive; the others go to applicants.
STAFF_KINDS = {
    k.value
    for k in (
        Kind.answer_received,
        Kind.assigned,
        Kind.stage_reached,
        Kind.divergence,
        Kind.score_reminder,
        Kind.report_received,
    )
}


def delivery_for(user: User, kind: str) -> Delivery:
    if kind in ALWAYS_BY_EMAIL:
        return Delivery.immediately
    chosen = db.session.get(Preference, (user.id, kind))
    return chosen.delivery if chosen else DEFAULT_DELIVERY


def preferences_of(user: User) -> dict[str, Delivery]:
    chosen = {
        p.kind: p.delivery
        for p in db.session.scalars(sa.select(Preference).where(Preference.user_id == user.id))
    }
    return {
        k.value: chosen.get(k.value, DEFAULT_DELIVERY)
        for k in Kind
        if k.value not in ALWAYS_BY_EMAIL
    }


def set_preferences(user: User, choices: dict[str, str]) -> None:
    for kind, delivery in choices.items():
        if kind in ALWAYS_BY_EMAIL or kind not in {k.value for k in Kind}:
            continue
        row = db.session.get(Preference, (user.id, kind))
        if row is None:
            row = Preference(user_id=user.id, kind=kind)
            db.session.add(row)
        row.delivery = Delivery(delivery)


def notify(
    users,
    kind: str,
    compose: Callable[[User], Composed],
    *,
    proposal=None,
    dedupe: str | None = None,
) -> list[Notification]:
    """Tell each person (in their language, by their preference for this kind of message)."""
    notes = []
    seen = set()
    for user in users:
        if user is None or not user.active or user.id in seen:
            continue
        seen.add(user.id)
        key = f"{dedupe}:{user.id}" if dedupe else None
        if key and db.session.scalar(
            sa.select(Notification.id).where(
                Notification.user_id == user.id, Notification.dedupe_key == key
            )
        ):
            continue  # a reminder is written once
        with recipient_locale(user):
            composed = compose(user)
            body = "\n\n".join(
                [*composed.paragraphs, *([composed.quote] if composed.quote else [])]
            )
        delivery = delivery_for(user, kind)
        note = Notification(
            user_id=user.id,
            proposal_id=proposal.id if proposal is not None else None,
            subject=composed.subject[:200],
            body=body,
            kind=kind,
            link=urlsplit(composed.link).path if composed.link else "",
            digest_pending=delivery == Delivery.digest,
            dedupe_key=key,
            created_at=utcnow(),
        )
        db.session.add(note)
        notes.append(note)
        if (
            delivery == Delivery.immediately
            and mail.queue(user, kind, composed, dedupe_key=key) is not None
        ):
            note.emailed_at = utcnow()
    return notes


def members_of(organisation_id: int) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(User.organisation_id == organisation_id, User.active.is_(True))
        )
    )


def staff_with(programme_id: int | None, *roles: Role) -> list[User]:
    """Active people holding one of these roles for the programme (or for every programme)."""
    rows = db.session.scalars(
        sa.select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            User.active.is_(True),
            UserRole.role.in_(roles),
            sa.or_(UserRole.programme_id.is_(None), UserRole.programme_id == programme_id),
        )
        .distinct()
    )
    return list(rows)


# --- the applicant's steps -------------------------------------------------------------------


@after_transition
def _tell(context, change) -> None:
    """After each transition: the applicant (public steps), and the staff whose turn it is."""
    transition, proposal = context.transition, context.proposal
    workflow = context.workflow
    if transition.notify_applicant:
        _tell_applicants(context, change)
    if transition.by_applicant and workflow.in_group(change.from_status, "info_requested"):
        _tell_who_asked(proposal, change)
    programme = proposal.call.programme_id
    entering, leaving = change.to_status, change.from_status
    for group, role in (("hrdd_review", Role.hrdd), ("committee_decides", Role.committee)):
        if workflow.in_group(entering, group) and not (
            leaving and workflow.in_group(leaving, group)
        ):
            _tell_stage(proposal, staff_with(programme, role), entering)


def _tell_applicants(context, change) -> None:
    from tracker.core.templating import state_label

    proposal, transition = context.proposal, context.transition
    asked = context.workflow.in_group(change.to_status, "info_requested")

    def compose(user):
        status = state_label(change.to_status, applicant=True)
        paragraphs = [
            _(
                "Your proposal %(ref)s, “%(title)s”, is now: %(status)s.",
                ref=proposal.display_reference,
                title=proposal.display_title,
                status=status,
            )
        ]
        if asked:
            paragraphs.append(
                _("The agency needs more information from you: answer in the tracker.")
            )
        return Composed(
            subject=_("%(ref)s: %(status)s", ref=proposal.display_reference, status=status),
            paragraphs=paragraphs,
            quote=change.comment or "",
            quote_label=str(transition.reason_label) if change.comment else "",
            link=page_url("proposals.show", proposal_id=proposal.id),
            link_label=_("Open the proposal"),
        )

    kind = Kind.information_requested.value if asked else Kind.status_change.value
    notify(members_of(proposal.organisation_id), kind, compose, proposal=proposal)


def _tell_who_asked(proposal, change) -> None:
    """The reviewer who requested information hears that the applicant answered."""
    from tracker.workflow.models import StatusChange

    request = db.session.scalar(
        sa.select(StatusChange)
        .where(
            StatusChange.proposal_id == proposal.id,
            StatusChange.to_status == change.from_status,
            StatusChange.seq < change.seq,
        )
        .order_by(StatusChange.seq.desc())
        .limit(1)
    )
    asker = request.actor if request is not None else None
    if asker is None:
        return

    def compose(user):
        return Composed(
            subject=_("%(ref)s: the applicant answered", ref=proposal.display_reference),
            paragraphs=[
                _(
                    "The applicant of %(ref)s, “%(title)s”, answered your request for information.",
                    ref=proposal.display_reference,
                    title=proposal.display_title,
                )
            ],
            quote=change.comment or "",
            link=page_url("review.proposal", proposal_id=proposal.id),
            link_label=_("Open the proposal"),
        )

    notify([asker], Kind.answer_received.value, compose, proposal=proposal)


def _tell_stage(proposal, people, state) -> None:
    from tracker.core.templating import state_label

    def compose(user):
        return Composed(
            subject=_(
                "%(ref)s waits for you: %(stage)s",
                ref=proposal.display_reference,
                stage=state_label(state),
            ),
            paragraphs=[
                _(
                    "%(ref)s, “%(title)s” (%(company)s), reached %(stage)s.",
                    ref=proposal.display_reference,
                    title=proposal.display_title,
                    company=proposal.lead_name or "",
                    stage=state_label(state),
                )
            ],
            link=page_url("review.proposal", proposal_id=proposal.id),
            link_label=_("Open the proposal"),
        )

    notify(people, Kind.stage_reached.value, compose, proposal=proposal)


def tell_assigned(proposal, reviewer) -> None:
    """A reviewer hears that a proposal was assigned to them for scoring."""

    def compose(user):
        return Composed(
            subject=_("%(ref)s is assigned to you for scoring", ref=proposal.display_reference),
            paragraphs=[
                _(
                    "You are asked to score %(ref)s, “%(title)s”. Declare first whether you have "
                    "a conflict of interest.",
                    ref=proposal.display_reference,
                    title=proposal.display_title,
                )
            ],
            link=page_url("review.proposal", proposal_id=proposal.id),
            link_label=_("Open the proposal"),
        )

    notify([reviewer], Kind.assigned.value, compose, proposal=proposal)


def tell_divergence(proposal, people) -> None:
    """Scores diverge: the reviewers of the programme who have not scored hear of it."""

    def compose(user):
        return Composed(
            subject=_("%(ref)s needs a further score", ref=proposal.display_reference),
            paragraphs=[
                _(
                    "The scores of %(ref)s, “%(title)s”, differ more than the rubric allows: "
                    "one more reviewer must score.",
                    ref=proposal.display_reference,
                    title=proposal.display_title,
                )
            ],
            link=page_url("review.proposal", proposal_id=proposal.id),
            link_label=_("Open the proposal"),
        )

    notify(
        people,
        Kind.divergence.value,
        compose,
        proposal=proposal,
        dedupe=f"divergence:{proposal.id}",
    )


# --- the app's inbox -------------------------------------------------------------------------


_UNREAD: OrderedDict = OrderedDict()


def unread_count(user: User) -> int:
    """The person's unread notifications (shown on every page): counted again only when the
    data's generation moved."""
    from tracker.core.generation import data_state

    state = data_state()
    key = (state, user.id)
    if state is not None and key in _UNREAD:
        return _UNREAD[key]
    count = (
        db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )
    if state is not None:
        _UNREAD[key] = count
        while len(_UNREAD) > 1024:
            _UNREAD.popitem(last=False)
    return count


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
