"""Which proposals a member of staff may see: one rule, as SQL for lists and exports and in
Python for one proposal, so the two never disagree.

- Administrators see every proposal (drafts stay the applicant's own business).
- Reviewers, HRDD officers and reporting staff see the proposals of the programmes their role
  is held for (every programme when it is held for the whole tracker).
- Committee members see a proposal of their programmes from the stage where the committee
  decides (the ``committee_decides`` group of its workflow), and after it.
- Evaluators (and any scorer) see the proposals assigned to them.
"""

from __future__ import annotations

import sqlalchemy as sa

from tracker.auth.models import FULL_VIEW_ROLES, Role, User
from tracker.extensions import db
from tracker.programmes.models import Call
from tracker.proposals.models import Proposal
from tracker.review.models import ReviewerAssignment
from tracker.workflow.definitions import states_in_group
from tracker.workflow.models import StatusChange
from tracker.workflow.operations import workflow_for


def _in_programmes(programmes: set[int]):
    return Proposal.call_id.in_(sa.select(Call.id).where(Call.programme_id.in_(programmes)))


def _reached_committee():
    """The proposal is at a stage where the committee decides or after it (it was ever there)."""
    committee = states_in_group("committee_decides")
    after = committee | states_in_group("granted")
    return sa.or_(
        Proposal.status.in_(after),
        sa.exists().where(
            StatusChange.proposal_id == Proposal.id, StatusChange.to_status.in_(committee)
        ),
    )


def _assigned_to(user: User):
    return sa.exists().where(
        ReviewerAssignment.proposal_id == Proposal.id, ReviewerAssignment.reviewer_id == user.id
    )


def visible_to(user: User):
    """A WHERE clause over ``Proposal``: the proposals this person may see (drafts aside)."""
    if user.has_role(Role.admin):
        return sa.true()
    ways = []
    full = user.programmes_for(*FULL_VIEW_ROLES)
    if full is None:
        return sa.true()
    if full:
        ways.append(_in_programmes(full))
    if user.has_role(Role.committee):
        scope = user.programmes_for(Role.committee)
        reached = _reached_committee()
        ways.append(reached if scope is None else sa.and_(_in_programmes(scope), reached))
    if user.has_role(Role.evaluator, Role.reviewer):
        ways.append(_assigned_to(user))
    return sa.or_(*ways) if ways else sa.false()


def sees_everything(user: User) -> bool:
    """Whether no proposal of any programme is hidden from this person (no filter needed)."""
    return user.has_role(Role.admin) or user.programmes_for(*FULL_VIEW_ROLES) is None


def can_see(user: User, proposal: Proposal) -> bool:
    """The same rule for one proposal."""
    if not user.is_authenticated or not user.is_staff:
        return False
    if workflow_for(proposal).in_group(proposal.status, "hidden_from_staff"):
        return False
    if sees_everything(user):
        return True
    programme = proposal.call.programme_id
    if user.has_role_in(programme, *FULL_VIEW_ROLES):
        return True
    if user.has_role_in(programme, Role.committee) and _has_reached_committee(proposal):
        return True
    return user.has_role(Role.evaluator, Role.reviewer) and _is_assigned(proposal, user)


def _has_reached_committee(proposal: Proposal) -> bool:
    workflow = workflow_for(proposal)
    if workflow.in_group(proposal.status, "committee_decides") or workflow.in_group(
        proposal.status, "granted"
    ):
        return True
    return (
        db.session.scalar(
            sa.select(StatusChange.id)
            .where(
                StatusChange.proposal_id == proposal.id,
                StatusChange.to_status.in_(workflow.group("committee_decides")),
            )
            .limit(1)
        )
        is not None
    )


def _is_assigned(proposal: Proposal, user: User) -> bool:
    return (
        db.session.scalar(
            sa.select(ReviewerAssignment.id).where(
                ReviewerAssignment.proposal_id == proposal.id,
                ReviewerAssignment.reviewer_id == user.id,
            )
        )
        is not None
    )


def is_partner_evaluator(user: User) -> bool:
    """An evaluator from a partner institution and nothing more: sees the proposal and scores
    it, never the agency's internal notes, checks or other scores."""
    return user.has_role(Role.evaluator) and not user.has_role(
        Role.admin, Role.reviewer, Role.hrdd, Role.committee, Role.reporting
    )


def programmes_visible(user: User, *roles: Role) -> set[int] | None:
    """The programmes whose pages (rankings, reports) this person may open with these roles:
    None for all."""
    return user.programmes_for(*(roles or (*FULL_VIEW_ROLES, Role.committee)))
