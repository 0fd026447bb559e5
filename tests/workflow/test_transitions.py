"""Every transition of both workflows, by every role, from every state it leaves.

Allowed for the right role in the right state with the guards satisfied; refused otherwise,
with nothing written (status, version and history unchanged).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories as f
from tracker.extensions import db
from tracker.workflow.definitions import (
    ADMIN,
    BPF_SINGLE_STAGE,
    BPF_TWO_STAGE,
    RETURN_FROM_REJECTION,
    RETURN_TO_PREVIOUS,
    SAME_STATE,
    get_workflow,
    workflows,
)
from tracker.workflow.models import StatusChange
from tracker.workflow.operations import GUARDS, TransitionNotAllowed, WorkflowError

ACTORS = ("owner", "outsider", "reviewer", "hrdd", "committee", "reporting", "admin")


def allowed(transition, actor: str) -> bool:
    if transition.by_applicant:
        return actor == "owner"
    return actor == "admin" or actor in transition.roles


def cases():
    for workflow in (get_workflow(BPF_SINGLE_STAGE), get_workflow(BPF_TWO_STAGE)):
        for transition in workflow.transitions.values():
            for source in sorted(transition.sources):
                yield pytest.param(
                    workflow.key,
                    transition.key,
                    source,
                    id=f"{workflow.key}:{transition.key}:{source}",
                )


def test_definitions_are_consistent():
    import tracker.proposals.operations
    import tracker.review.guards  # noqa: F401 - registers the guards

    for workflow in workflows().values():
        for transition in workflow.transitions.values():
            assert transition.sources <= set(workflow.states), transition.key
            assert transition.target in set(workflow.states) | {
                RETURN_TO_PREVIOUS,
                RETURN_FROM_REJECTION,
                SAME_STATE,
            }
            for name in transition.guards:
                assert name in GUARDS, f"guard {name} of {transition.key} is not registered"
            assert not (transition.by_applicant and ADMIN in transition.roles)
        for state in workflow.states.values():
            ways_out = workflow.transitions_from(state.key)
            if state.terminal:
                assert [t.key for t in ways_out] in ([], ["reopen"])
            else:
                assert ways_out, f"{state.key} has no way out"
        withdraw = workflow.transitions["withdraw"]
        assert not withdraw.sources & (workflow.group("contracting") | workflow.group("contracted"))


def snapshot(proposal):
    rows = db.session.scalar(
        sa.select(sa.func.count(StatusChange.id)).where(StatusChange.proposal_id == proposal.id)
    )
    return proposal.status, proposal.version, rows, proposal.reference


@pytest.mark.parametrize(("workflow_key", "key", "source"), list(cases()))
def test_transition_table(ctx, workflow_key, key, source):
    people = f.team()
    owner = f.applicant()
    people["owner"] = owner
    call = f.call(two_stage=workflow_key == BPF_TWO_STAGE)
    workflow = get_workflow(workflow_key)
    transition = workflow.transitions[key]
    expected_target = {
        RETURN_TO_PREVIOUS: "screening",  # the path into info_requested comes from screening
        RETURN_FROM_REJECTION: "screening",  # and the path into rejected, too
        SAME_STATE: source,  # an extension of the deadline stays where it is
    }.get(transition.target, transition.target)

    # Refused for every role that may not take it, and nothing is written.
    proposal = f.bring_to(source, call, owner, people)
    db.session.commit()
    before = snapshot(proposal)
    for actor in ACTORS:
        if allowed(transition, actor):
            continue
        with pytest.raises(TransitionNotAllowed):
            f.take(proposal, key, people[actor])
        db.session.rollback()
        assert snapshot(proposal) == before

    # Refused from a state it does not leave.
    other = next(s for s in ("submitted", "draft", "withdrawn") if s not in transition.sources)
    elsewhere = f.bring_to(other, call, owner, people)
    db.session.commit()
    actor = next(a for a in ACTORS if allowed(transition, a))
    with pytest.raises(TransitionNotAllowed):
        f.take(elsewhere, key, people[actor])
    db.session.rollback()

    # Allowed for each role that may take it, each on its own proposal in that state.
    for actor in ACTORS:
        if not allowed(transition, actor):
            continue
        proposal = f.bring_to(source, call, owner, people)
        db.session.commit()
        _status, version, rows, _reference = snapshot(proposal)
        change = f.take(proposal, key, people[actor])
        db.session.commit()
        assert proposal.status == expected_target
        assert (change.from_status, change.to_status, change.transition) == (
            source,
            expected_target,
            key,
        )
        assert snapshot(proposal)[2] == rows + 1
        assert proposal.version > version


@pytest.mark.parametrize(
    ("state", "key", "setup", "message"),
    [
        ("draft", "submit", "empty", "required"),
        ("screening", "pass_screening", "unticked", "is not resolved yet"),
        ("hrdd_review", "clear_hrdd", "refused", "The clause is refused"),
        ("hrdd_review", "clear_hrdd", "unassessed", "has not been started"),
        ("evaluation", "complete_evaluation", "one_score", "At least 2 scores"),
        ("evaluation", "complete_evaluation", "divergent", "one more reviewer must score"),
        ("selection", "select", "over_ceiling", "At most"),
        ("contracting", "sign_contract", "no_dates", "signature date"),
    ],
)
def test_guards_refuse_with_a_reason_and_write_nothing(ctx, state, key, setup, message):
    people = f.team()
    owner = f.applicant()
    call = f.call()
    if setup == "empty":
        proposal = f.draft(call, owner)
    elif setup in ("unticked", "unassessed", "one_score", "divergent"):
        proposal = f.submitted(call, owner)
        for step, role in f.path_to(state, False):
            f.prepare_for(proposal, people)
            f.take(proposal, step, people[role])
        if setup == "one_score":
            f.score(proposal, people["reviewer"], 7)
        if setup == "divergent":
            f.score(proposal, people["reviewer"], 9)
            f.score(proposal, people["reviewer2"], 3)
    else:
        proposal = f.bring_to(state, call, owner, people)
    if setup == "refused":
        f.assess_hrdd(proposal, people["hrdd"], decision="refused")
    if setup == "no_dates":
        contract = f.review_ops.contract_for(proposal)
        contract.agency_signed_on = None
    db.session.commit()
    before = snapshot(proposal)
    actor = (
        owner
        if key == "submit"
        else people[next(iter(get_workflow(call.workflow_key).transitions[key].roles))]
    )
    data = {"granted_eur": "250000.00"} if setup == "over_ceiling" else f.inputs_for(proposal, key)
    with pytest.raises(WorkflowError) as refused:
        from tracker.workflow.operations import perform_transition

        perform_transition(proposal, key, actor, comment="x", data=data)
    db.session.rollback()
    assert any(message in problem for problem in [refused.value.message, *refused.value.problems])
    assert snapshot(proposal) == before


def test_a_third_score_resolves_divergence(ctx):
    people = f.team()
    owner = f.applicant()
    proposal = f.submitted(f.call(), owner)
    for step, role in f.path_to("evaluation", False):
        f.prepare_for(proposal, people)
        f.take(proposal, step, people[role])
    f.score(proposal, people["reviewer"], 9)
    f.score(proposal, people["reviewer2"], 3)
    f.score(proposal, people["reviewer3"], 6)
    f.take(proposal, "complete_evaluation", people["reviewer"])
    assert proposal.status == "selection"
    assert f.review_ops.score_summary(proposal).mean == 60


def test_reasons_are_required_where_the_applicant_sees_them(ctx):
    people = f.team()
    proposal = f.bring_to("screening", f.call(), f.applicant(), people)
    from tracker.workflow.operations import perform_transition

    with pytest.raises(WorkflowError, match="Reason for the applicant is required"):
        perform_transition(proposal, "reject_screening", people["reviewer"], comment="   ")


def test_respond_returns_to_where_the_request_came_from(ctx):
    people = f.team()
    owner = f.applicant()
    proposal = f.bring_to("evaluation", f.call(), owner, people)
    f.take(proposal, "request_information", people["reviewer"])
    assert proposal.status == "info_requested"
    f.take(proposal, "respond", owner)
    assert proposal.status == "evaluation"


def test_reopen_returns_to_the_state_of_the_rejection(ctx):
    people = f.team()
    proposal = f.bring_to("hrdd_review", f.call(), f.applicant(), people)
    f.take(proposal, "reject_hrdd", people["hrdd"])
    f.take(proposal, "reopen", people["admin"])
    assert proposal.status == "hrdd_review"


def test_a_conflicted_committee_member_cannot_decide(ctx):
    people = f.team()
    proposal = f.bring_to("selection", f.call(), f.applicant(), people)
    f.review_ops.declare_conflict(
        proposal, people["committee"], True, "My brother runs the partner."
    )
    with pytest.raises(WorkflowError, match="conflict of interest"):
        f.take(proposal, "select", people["committee"])
