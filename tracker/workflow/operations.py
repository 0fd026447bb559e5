"""The one service through which every status change happens.

``perform_transition`` checks the actor's role, the state, the required inputs, the guards and
the version the actor saw; runs the transition's effects; changes the status and appends the
history row, all in the caller's transaction (the request boundary or the CLI commits once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.workflow.definitions import (
    ADMIN,
    APPLICANT,
    CREATE,
    EFFECT_NAMES,
    GUARD_NAMES,
    RETURN_FROM_REJECTION,
    RETURN_TO_PREVIOUS,
    SAME_STATE,
    Transition,
    Workflow,
    get_workflow,
)
from tracker.workflow.history import append_change, last_change
from tracker.workflow.models import StatusChange

log = logging.getLogger(__name__)


class WorkflowError(Exception):
    """A transition was refused; the message is meant for the person who tried it."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []


class TransitionNotAllowed(WorkflowError):
    """Wrong state or wrong role."""


class GuardFailed(WorkflowError):
    """The transition's conditions are not met."""


class StaleProposal(WorkflowError):
    """The actor acted on a page that no longer shows the proposal as it is.

    ``seen_version`` is the version the page showed, so the page shown next can list what
    changed since.
    """

    def __init__(self, message: str, problems=None, *, seen_version: int | None = None):
        super().__init__(message, problems)
        self.seen_version = seen_version


@dataclass
class TransitionContext:
    """What guards and effects see."""

    proposal: Any
    actor: Any
    workflow: Workflow
    transition: Transition
    data: dict = field(default_factory=dict)
    now: datetime = field(default_factory=utcnow)
    # False when only asking whether a transition could be offered (inputs not typed yet).
    with_inputs: bool = True
    # The reason or message the history row will carry (an effect may complete it).
    comment: str = ""


Guard = Callable[[TransitionContext], list[str]]
Effect = Callable[[TransitionContext], None]

# Filled by the features that implement them; tracker.workflow.builtins imports them all and
# checks that every name a workflow file may use has its implementation.
GUARDS: dict[str, Guard] = {}
EFFECTS: dict[str, Effect] = {}
AFTER: list[Callable[[TransitionContext, StatusChange], None]] = []


def guard(name: str) -> Callable[[Guard], Guard]:
    """Register a guard under the name workflow files use (one of GUARD_NAMES)."""
    if name not in GUARD_NAMES:
        raise ValueError(f"{name!r} is not a guard name workflows know (definitions.GUARD_NAMES)")

    def register(func: Guard) -> Guard:
        GUARDS[name] = func
        return func

    return register


def effect(name: str) -> Callable[[Effect], Effect]:
    """Register something a transition does besides changing the status, under its name."""
    if name not in EFFECT_NAMES:
        raise ValueError(
            f"{name!r} is not an effect name workflows know (definitions.EFFECT_NAMES)"
        )

    def register(func: Effect) -> Effect:
        EFFECTS[name] = func
        return func

    return register


def after_transition(func):
    """Register a listener called after each transition (notifications)."""
    AFTER.append(func)
    return func


def workflow_for(proposal) -> Workflow:
    """The workflow of the proposal's call."""
    return get_workflow(proposal.call.workflow_key)


def may_take(actor, proposal, transition: Transition) -> bool:
    """Whether the actor's role (and organisation) lets them take this transition at all."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if transition.by_applicant:
        return actor.has_role(APPLICANT) and actor.organisation_id == proposal.organisation_id
    # Staff roles count for the programmes they are held for (or for every programme).
    return actor.has_role_in(proposal.call.programme_id, ADMIN, *transition.roles)


def check_guards(context: TransitionContext) -> list[str]:
    """Every problem the transition's guards report, in order."""
    problems: list[str] = []
    for name in context.transition.guards:
        problems.extend(GUARDS[name](context))
    return problems


@dataclass
class Option:
    """A transition as offered on a page: available now, or blocked with reasons."""

    transition: Transition
    problems: list[str]

    @property
    def available(self) -> bool:
        return not self.problems


def options_for(proposal, actor, now: datetime | None = None) -> list[Option]:
    """The transitions this actor may take from the current state, with what still blocks them."""
    workflow = workflow_for(proposal)
    options = []
    for transition in workflow.transitions_from(proposal.status):
        if not may_take(actor, proposal, transition):
            continue
        context = TransitionContext(
            proposal, actor, workflow, transition, now=now or utcnow(), with_inputs=False
        )
        options.append(Option(transition, check_guards(context)))
    return options


def resolve_target(proposal, transition: Transition) -> str:
    """The target state; for the two 'go back' transitions it is read from the history."""
    if transition.target == RETURN_TO_PREVIOUS:
        entering = _last_entry_into(proposal.id, transition.sources)
        return entering.from_status
    if transition.target == RETURN_FROM_REJECTION:
        entering = _last_entry_into(proposal.id, workflow_for(proposal).group("rejected"))
        return entering.from_status
    if transition.target == SAME_STATE:
        return proposal.status
    return transition.target


def _last_entry_into(proposal_id: int, statuses) -> StatusChange:
    """The last history row that entered one of these states from another one."""
    row = db.session.scalar(
        db.select(StatusChange)
        .where(
            StatusChange.proposal_id == proposal_id,
            StatusChange.to_status.in_(list(statuses)),
            StatusChange.from_status.is_not(None),
            StatusChange.from_status != StatusChange.to_status,
        )
        .order_by(StatusChange.seq.desc())
        .limit(1)
    )
    if row is None or row.from_status is None:  # pragma: no cover - the chain guarantees it
        raise WorkflowError(_("The history does not say where this proposal came from."))
    return row


def stale_message(proposal) -> str:
    """Tell the user what changed since they loaded the page."""
    change = last_change(proposal.id)
    state = workflow_for(proposal).states.get(proposal.status)
    label = str(state.label) if state else proposal.status
    if change is None:
        return _(
            "This proposal was changed by someone else. Nothing was saved; reload and try again."
        )
    who = change.actor.name if change.actor else _("the system")
    when = format_datetime(change.created_at, "d MMM y, HH:mm")
    return _(
        "This proposal changed after you opened the page: it is now “%(state)s” "
        "(last change by %(who)s at %(when)s). Nothing was saved; review the page and try again.",
        state=label,
        who=who,
        when=when,
    )


class _AnyVersion:
    """Callers that hold the current proposal (the command line, imports, tests) pass nothing."""

    def __repr__(self) -> str:
        return "ANY_VERSION"


ANY_VERSION: Any = _AnyVersion()


def check_version(proposal, expected_version=ANY_VERSION) -> None:
    """Refuse work done on a stale page, and work from a page that did not say its version.

    Views pass the version their form carried: ``None`` (the field was missing or garbled)
    is refused like a stale page, so a post without it can never overwrite a colleague's save.
    """
    if expected_version is ANY_VERSION:
        return
    if expected_version is None:
        raise StaleProposal(
            _(
                "The page did not say which version of the proposal it showed, so nothing was "
                "saved. Reload the page and try again."
            ),
            seen_version=None,
        )
    if int(expected_version) != proposal.version:
        raise StaleProposal(stale_message(proposal), seen_version=int(expected_version))


def perform_transition(
    proposal,
    key: str,
    actor,
    *,
    expected_version=ANY_VERSION,
    comment: str = "",
    note: str = "",
    data: dict | None = None,
    now: datetime | None = None,
) -> StatusChange:
    """Take one transition: role, state, inputs, guards, version, effects, status, history."""
    workflow = workflow_for(proposal)
    transition = workflow.transitions.get(key)
    if transition is None:
        raise TransitionNotAllowed(_("This action does not exist in this proposal's workflow."))
    check_version(proposal, expected_version)
    if proposal.status not in transition.sources:
        state = workflow.states[proposal.status]
        raise TransitionNotAllowed(
            _(
                "“%(action)s” is not possible while the proposal is “%(state)s”.",
                action=str(transition.label),
                state=str(state.label),
            )
        )
    if not may_take(actor, proposal, transition):
        raise TransitionNotAllowed(
            _("Your role does not allow “%(action)s”.", action=str(transition.label))
        )
    comment = (comment or "").strip()
    if transition.requires_reason and not comment:
        raise GuardFailed(
            _("%(field)s is required.", field=str(transition.reason_label)),
            [_("%(field)s is required.", field=str(transition.reason_label))],
        )
    context = TransitionContext(
        proposal, actor, workflow, transition, data or {}, now or utcnow(), comment=comment
    )
    problems = check_guards(context)
    if problems:
        raise GuardFailed(
            problems[0] if len(problems) == 1 else _("This is not possible yet."), problems
        )

    target = resolve_target(proposal, transition)
    previous = last_change(proposal.id)
    for name in transition.effects:
        EFFECTS[name](context)
    from_status = proposal.status
    proposal.status = target
    proposal.updated_at = context.now
    try:
        # The versioned UPDATE goes first: a concurrent change makes it fail here, cleanly.
        db.session.flush()
        change = append_change(
            proposal,
            from_status=from_status,
            to_status=target,
            transition=key,
            actor_id=actor.id,
            comment=context.comment,
            internal_note=(note or "").strip(),
            at=context.now,
            previous=previous,
        )
        db.session.flush()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        raise StaleProposal(
            _(
                "Someone else changed this proposal at the same moment. Nothing was saved; reload the page."
            ),
            seen_version=expected_version if isinstance(expected_version, int) else None,
        ) from None
    log.info(
        "proposal %s: %s -> %s by user %s (%s)", proposal.id, from_status, target, actor.id, key
    )
    for listener in AFTER:
        listener(context, change)
    return change


def start_history(proposal, actor_id: int | None, at: datetime | None = None) -> StatusChange:
    """Give a new proposal its initial status and the first history row (its creation)."""
    workflow = workflow_for(proposal)
    proposal.status = workflow.initial
    db.session.add(proposal)
    db.session.flush()
    return append_change(
        proposal,
        from_status=None,
        to_status=workflow.initial,
        transition=CREATE,
        actor_id=actor_id,
        at=at,
    )


def record_imported_history(proposal, steps: list[tuple[str, str, datetime, str]], actor_id=None):
    """Write a backdated, imported history: ``(transition, to_status, at, comment)`` per step.

    Used by the historical import, which does not go through guards; the chain and the hashes
    are the same as for live transitions.
    """
    # The row needs an id before its history: it is first written in its first status.
    proposal.status = steps[0][1]
    db.session.add(proposal)
    db.session.flush()
    previous = None
    from_status = None
    for transition, to_status, at, comment in steps:
        previous = append_change(
            proposal,
            from_status=from_status,
            to_status=to_status,
            transition=transition,
            actor_id=actor_id,
            comment=comment,
            at=at,
            imported=True,
            previous=previous,
        )
        from_status = to_status
    proposal.status = from_status
    return previous


def stranded_states(workflow: Workflow) -> dict[str, int]:
    """States that proposals of calls using this workflow's key are in, but it does not have.

    A workflow in use may change its labels or add states; it may not lose one that proposals
    are in (they would be stranded): a new version gets a new key.
    """
    from tracker.programmes.models import Call
    from tracker.proposals.models import Proposal

    rows = db.session.execute(
        db.select(Proposal.status, db.func.count(Proposal.id))
        .join(Call, Call.id == Proposal.call_id)
        .where(Call.workflow_key == workflow.key, Proposal.status.not_in(list(workflow.states)))
        .group_by(Proposal.status)
    ).all()
    return dict(rows)
