"""My work: what waits for a member of staff now, by stage, oldest first.

A proposal waits for staff in a state that has a transition open to staff roles and none that
lets the applicant carry it on (in "information requested" the company has the next move; that
it may always withdraw does not count). It waits for *this*
person when one of their roles may take such a transition and they may see the proposal. Scores
wait for the reviewers assigned to the proposal; reports sent by companies wait for reviewers;
HRDD conditions past their due date wait for the HRDD officer and the reviewers. The page runs
the same few queries whatever the number of proposals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from tracker.auth.models import Role, User
from tracker.core.time import local_today
from tracker.extensions import db
from tracker.proposals.models import Proposal
from tracker.review import access
from tracker.review.models import ReviewerAssignment, Score
from tracker.workflow.definitions import APPLICANT, states_in_group, workflows

SHOWN = 5  # rows listed per kind of work; the count says how many there are


@dataclass
class Pile:
    """One kind of work: its title, how many items, the oldest few, and where to see them all."""

    key: str
    title: str
    count: int
    items: list = field(default_factory=list)
    link: str | None = None


def waiting_states() -> dict[str, frozenset[str]]:
    """Each state that waits for staff, in the workflows' order, with the roles that may move
    it on (before the signature: a signed project's work is its reports and conditions)."""
    signed = states_in_group("signed")
    found: dict[str, set[str]] = {}
    for workflow in workflows().values():
        for key in workflow.ordered_states():
            if key in signed or workflow.is_terminal(key):
                continue
            ways = workflow.transitions_from(key)
            # The company may always withdraw; a move of its own that goes on means the next
            # step is the company's (answering a request, correcting a form).
            if any(t.by_applicant and not _ends(workflow, t.target) for t in ways):
                continue
            asking = workflow.groups.get("info_requested", frozenset())
            # Asking the company a question does not move the stage on: who may do only
            # that is not who the stage waits for.
            roles = {
                role
                for t in ways
                if t.target not in asking
                for role in t.roles
                if role != APPLICANT
            }
            if roles:
                found.setdefault(key, set()).update(roles)
    return {key: frozenset(roles) for key, roles in found.items()}


def _ends(workflow, target: str) -> bool:
    """Whether a transition's target ends the proposal (``@previous`` and ``@same`` go on)."""
    return target in workflow.states and workflow.is_terminal(target)


def _mine(user: User) -> list[str]:
    """The waiting states this person may move on (an administrator, every one)."""
    held = {role.value for role in user.roles}
    admin = Role.admin.value in held
    return [key for key, roles in waiting_states().items() if admin or roles & held]


def my_work(user: User, today: date | None = None) -> list[Pile]:
    today = today or local_today()
    piles: list[Pile] = []
    states = _mine(user)
    visible = access.visible_to(user)
    if states:
        # The queue's own counts per status (kept per process while the data is unchanged).
        from tracker.review.queue import QueueFilter, status_counts

        every = status_counts(QueueFilter(viewer=user))
        counts = {key: every[key] for key in states if every.get(key)}
        oldest = _oldest_per_state([s for s in states if counts.get(s)], visible)
        from tracker.core.templating import state_label

        for key in states:
            if counts.get(key):
                piles.append(
                    Pile(
                        key=f"state:{key}",
                        title=state_label(key),
                        count=counts[key],
                        items=oldest.get(key, []),
                        link=f"status={key}",
                    )
                )
    if user.has_role(Role.reviewer, Role.evaluator, Role.admin):
        piles.insert(0, _scores_owed(user, visible))
    if user.has_role(Role.reviewer, Role.admin):
        piles.append(_reports_to_review(visible))
    if user.has_role(Role.reviewer, Role.hrdd, Role.admin):
        piles.append(_overdue_conditions(visible, today))
    return [pile for pile in piles if pile.count]


# What a pile shows of each proposal.
ITEM_COLUMNS = (
    Proposal.id,
    Proposal.reference,
    Proposal.title,
    Proposal.lead_name,
    Proposal.status,
    Proposal.updated_at,
)


def _oldest_per_state(states: list[str], visible) -> dict[str, list]:
    """The proposals changed longest ago in each state, ``SHOWN`` per state, in one statement:
    one short index walk per state (last change, id), joined by UNION ALL."""
    if not states:
        return {}
    parts = [
        sa.select(
            sa.select(*ITEM_COLUMNS)
            .where(Proposal.status == state, visible)
            .order_by(Proposal.updated_at, Proposal.id)
            .limit(SHOWN)
            .subquery()
        )
        for state in states
    ]
    found: dict[str, list] = {}
    for row in db.session.execute(sa.union_all(*parts)):
        found.setdefault(row.status, []).append(row)
    for rows in found.values():
        rows.sort(key=lambda row: (row.updated_at, row.id))
    return found


def _scores_owed(user: User, visible) -> Pile:
    """Proposals assigned to this person, in a scoring state, without their score yet."""
    # EXISTS rather than a join: the visibility rule of an evaluator is itself an EXISTS over
    # the assignments, and would correlate with a joined table.
    assigned = sa.exists().where(
        ReviewerAssignment.proposal_id == Proposal.id, ReviewerAssignment.reviewer_id == user.id
    )
    owed = sa.select(Proposal.id).where(
        assigned,
        Proposal.status.in_(states_in_group("scoring")),
        ~sa.exists().where(Score.proposal_id == Proposal.id, Score.reviewer_id == user.id),
        visible,
    )
    count = db.session.scalar(sa.select(sa.func.count()).select_from(owed.subquery()))
    items = db.session.execute(
        sa.select(*ITEM_COLUMNS)
        .where(Proposal.id.in_(owed))
        .order_by(Proposal.updated_at, Proposal.id)
        .limit(SHOWN)
    ).all()
    from flask_babel import gettext

    return Pile("scores", gettext("Scores to give"), count or 0, items, None)


def _reports_to_review(visible) -> Pile:
    from flask_babel import gettext

    from tracker.projects.models import ProjectReport, ReportStatus

    waiting = sa.and_(ProjectReport.status == ReportStatus.submitted, visible)
    count = db.session.scalar(
        sa.select(sa.func.count(ProjectReport.id))
        .join(Proposal, Proposal.id == ProjectReport.proposal_id)
        .where(waiting)
    )
    items = db.session.execute(
        sa.select(
            ProjectReport.id.label("report_id"),
            ProjectReport.title.label("what"),
            ProjectReport.updated_at,
            Proposal.id,
            Proposal.reference,
            Proposal.title,
            Proposal.lead_name,
        )
        .join(Proposal, Proposal.id == ProjectReport.proposal_id)
        .where(waiting)
        .order_by(ProjectReport.updated_at, ProjectReport.id)
        .limit(SHOWN)
    ).all()
    return Pile("reports", gettext("Project reports to review"), count or 0, items, None)


def _overdue_conditions(visible, today: date) -> Pile:
    from flask_babel import gettext

    from tracker.projects.models import ConditionStatus, ProjectCondition

    late = sa.and_(
        ProjectCondition.status == ConditionStatus.open, ProjectCondition.due_on < today, visible
    )
    count = db.session.scalar(
        sa.select(sa.func.count(ProjectCondition.id))
        .join(Proposal, Proposal.id == ProjectCondition.proposal_id)
        .where(late)
    )
    items = db.session.execute(
        sa.select(
            ProjectCondition.position,
            ProjectCondition.text.label("what"),
            ProjectCondition.due_on,
            Proposal.id,
            Proposal.reference,
            Proposal.title,
            Proposal.lead_name,
        )
        .join(Proposal, Proposal.id == ProjectCondition.proposal_id)
        .where(late)
        .order_by(ProjectCondition.due_on, ProjectCondition.id)
        .limit(SHOWN)
    ).all()
    return Pile("conditions", gettext("HRDD conditions overdue"), count or 0, items, None)
