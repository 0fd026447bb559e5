"""Guards and effects of the review transitions, registered with the workflow service."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from tracker.audit.operations import plain, record_change
from tracker.core.numbers import format_percent
from tracker.core.time import LUXEMBOURG
from tracker.programmes.rubrics import rubric_for
from tracker.proposals import eligibility
from tracker.review import operations as ops
from tracker.review.models import ClauseDecision
from tracker.workflow.operations import TransitionContext, effect, guard
from tracker.workflow.timeline import history_rows


@guard("screening_passed")
def _screening_passed(context: TransitionContext) -> list[str]:
    return ops.screening_problems(context.proposal)


@guard("hrdd_cleared")
def _hrdd_cleared(context: TransitionContext) -> list[str]:
    problems = ops.hrdd_problems(context.proposal)
    assessment = ops.hrdd_assessment(context.proposal)
    if assessment is not None and assessment.clause_decision == ClauseDecision.refused:
        problems.append(_("The clause is refused: the proposal can only be rejected."))
    return problems


@guard("scores_complete")
def _scores_complete(context: TransitionContext) -> list[str]:
    summary = ops.score_summary(context.proposal)
    if summary.enough:
        return []
    if summary.divergent:
        share = rubric_for(context.proposal.call).divergence_percent
        return [
            _(
                "Two scores differ by more than %(share)s of the higher: one more reviewer "
                "must score.",
                share=format_percent(share),
            )
        ]
    return [
        _(
            "At least %(n)s scores are needed (%(have)s so far).",
            n=summary.needed,
            have=len(summary.totals),
        )
    ]


@guard("no_conflict")
def _no_conflict(context: TransitionContext) -> list[str]:
    declaration = ops.conflict_of(context.proposal, context.actor)
    if declaration is not None and declaration.has_conflict:
        return [_("You declared a conflict of interest on this proposal.")]
    return []


@guard("selection_ready")
def _selection_ready(context: TransitionContext) -> list[str]:
    """A selected proposal has a cleared HRDD review and enough scores."""
    proposal = context.proposal
    problems = []
    assessment = ops.hrdd_assessment(proposal)
    # Cleared: the history went through a transition that needs the HRDD review cleared.
    clearing = {t.key for t in context.workflow.with_guard("hrdd_cleared")}
    cleared = any(row.transition in clearing for row in history_rows(proposal.id))
    if (
        not cleared
        or assessment is None
        or assessment.clause_decision in (None, ClauseDecision.refused)
    ):
        problems.append(_("The HRDD review has not been cleared."))
    if not ops.score_summary(proposal).enough:
        problems.append(_("The evaluation does not have enough scores."))
    return problems


def granted_amount(context: TransitionContext) -> Decimal | None:
    value = context.data.get("granted_eur")
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


@guard("grant_within_limits")
def _grant_within_limits(context: TransitionContext) -> list[str]:
    if not context.with_inputs:
        return []
    proposal = context.proposal
    requested = proposal.requested_eur
    return eligibility.grant_problems(
        proposal,
        granted_amount(context),
        not_above=requested,
        not_above_message=_(
            "The grant cannot exceed the amount requested (%(req)s).",
            req=eligibility.euros(requested),
        ),
    )


@guard("contract_complete")
def _contract_complete(context: TransitionContext) -> list[str]:
    today = context.now.astimezone(LUXEMBOURG).date()
    return ops.contract_problems(context.proposal, ops.contract_for(context.proposal), today)


@effect("record_grant")
def _record_grant(context: TransitionContext) -> None:
    proposal = context.proposal
    before = {"granted_eur": plain(proposal.granted_eur)}
    proposal.granted_eur = granted_amount(context)
    record_change(
        "selection",
        proposal.id,
        actor=context.actor,
        before=before,
        after={"granted_eur": plain(proposal.granted_eur)},
        proposal=proposal,
    )


@effect("prepare_contract")
def _prepare_contract(context: TransitionContext) -> None:
    ops.prepare_contract(context.proposal)


@effect("sign_contract")
def _sign(context: TransitionContext) -> None:
    ops.sign(context.proposal, ops.contract_for(context.proposal), context.now, context.actor)
