"""Random sequences of actions by random roles never break the workflow's invariants."""

from __future__ import annotations

import os
import random
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests import factories as f
from tracker.extensions import db
from tracker.projects import operations as project_ops
from tracker.projects.models import (
    GrievanceCategory,
    GrievanceChannel,
    GrievanceSeverity,
    GrievanceStatus,
    ReportStatus,
)
from tracker.review import operations as review_ops
from tracker.review.models import ClauseDecision
from tracker.workflow.definitions import RETURN_FROM_REJECTION, get_workflow, workflows
from tracker.workflow.models import StatusChange
from tracker.workflow.operations import WorkflowError, options_for, perform_transition

ROLES = (
    "owner",
    "outsider",
    "reviewer",
    "reviewer2",
    "reviewer3",
    "hrdd",
    "committee",
    "reporting",
    "admin",
)
WORKFLOW_KEYS = ("bpf-single-stage", "bpf-two-stage", "challenge-fund")


def machine_for(people, calls):
    class ProposalLife(RuleBasedStateMachine):
        """One proposal of a call of any shipped workflow, pushed around by anyone trying
        anything; the invariants ask the workflow's groups, never name a state."""

        @initialize(
            workflow_key=st.sampled_from(WORKFLOW_KEYS),
            signed=st.sampled_from([False, False, True]),
        )
        def start(self, workflow_key, signed):
            call = calls[workflow_key]
            if signed and workflow_key != "challenge-fund":
                # A third of the BPF runs start at the signature, to follow the project.
                self.proposal = f.bring_to("contracted", call, people["owner"], people)
            else:
                self.proposal = f.submitted(call, people["owner"])
            db.session.commit()
            self.workflow = get_workflow(call.workflow_key)
            self.ended = self.workflow.group("rejected") | self.workflow.group("withdrawn")
            self.terminal_seen = None

        @rule(
            key=st.sampled_from(sorted({k for w in workflows().values() for k in w.transitions})),
            role=st.sampled_from(ROLES),
            reason=st.sampled_from(["", "Because."]),
            amount=st.sampled_from(["100000.00", "150000.00", "999999.00", "", "abc"]),
        )
        def try_transition(self, key, role, reason, amount):
            try:
                perform_transition(
                    self.proposal,
                    key,
                    people[role],
                    comment=reason,
                    data={"granted_eur": amount, "amended_eur": amount, "recover_eur": amount},
                )
                db.session.commit()
            except (WorkflowError, KeyError):
                db.session.rollback()

        @rule(data=st.data())
        def take_an_offered_step(self, data):
            """What some role is offered on its page right now (so that runs get deep)."""
            offered = [
                (role, option)
                for role in ROLES
                for option in options_for(self.proposal, people[role])
                if option.available
            ]
            if not offered:
                return
            # Mostly forward, sometimes out: runs should reach contracting, not stop at the first no.
            forward = [pair for pair in offered if pair[1].transition.target not in self.ended]
            pool = forward * 4 + offered if forward else offered
            role, option = data.draw(st.randoms(use_true_random=False)).choice(pool)
            try:
                perform_transition(
                    self.proposal,
                    option.transition.key,
                    people[role],
                    comment="Reason.",
                    data={"granted_eur": "120000.00"},
                )
                db.session.commit()
            except WorkflowError:
                db.session.rollback()

        @rule(steps=st.integers(1, 15), rnd=st.randoms(use_true_random=False))
        def walk_forward(self, steps, rnd):
            """Several stages in one go: record what each needs, then take an offered step."""
            for _ in range(steps):
                self.prepare_the_stage()
                offered = [
                    (role, option)
                    for role in ROLES
                    for option in options_for(self.proposal, people[role])
                    if option.available and option.transition.target not in self.ended
                ]
                if not offered:
                    return
                role, option = rnd.choice(offered)
                try:
                    perform_transition(
                        self.proposal,
                        option.transition.key,
                        people[role],
                        comment="Reason.",
                        data={"granted_eur": rnd.choice(["120000.00", "150000.00"])},
                    )
                    db.session.commit()
                except WorkflowError:
                    db.session.rollback()

        @rule()
        def prepare_the_stage(self):
            """Record what the current stage needs (checklist, assessment, scores, contract)."""
            try:
                f.prepare_for(self.proposal, people)
                db.session.commit()
            except (review_ops.ReviewError, WorkflowError):
                db.session.rollback()

        @rule(data=st.data())
        def follow_the_project(self, data):
            """What the company and staff record after the signature, in any order."""
            if not self.workflow.in_group(self.proposal.status, "signed"):
                return
            if data.draw(st.booleans()):
                # The project's course in order, each step perhaps skipped (runs get deep).
                for step in ("mid_term", "condition", "pay", "final", "pay"):
                    if not data.draw(st.booleans()):
                        continue
                    try:
                        if step == "condition":
                            f.meet_conditions(self.proposal, people["hrdd"])
                        elif step == "pay":
                            for tranche in project_ops.load_project(self.proposal).tranches():
                                if tranche.status == "payable":
                                    f.pay(
                                        self.proposal,
                                        tranche.instalment.position,
                                        people["reviewer"],
                                    )
                        else:
                            f.submit_report(self.proposal, people["owner"], step)
                            f.approve_report(self.proposal, people["reviewer"], step)
                        db.session.commit()
                    except (project_ops.ProjectError, WorkflowError):
                        db.session.rollback()
                return
            for _ in range(data.draw(st.integers(1, 8))):
                self.do_review_work(
                    data, ["report", "decide", "decide", "condition", "pay", "pay", "grievance"]
                )

        @rule(data=st.data())
        def do_review_work(self, data, among=None):
            """Whatever the current stage lets someone record (or tries to, out of turn)."""
            try:
                choice = data.draw(
                    st.sampled_from(
                        among
                        or [
                            "tick",
                            "assess",
                            "refuse",
                            "score",
                            "diverge",
                            "contract",
                            "conflict",
                            "report",
                            "decide",
                            "condition",
                            "pay",
                            "pay",
                            "grievance",
                        ]
                    )
                )
                if choice == "tick":
                    f.tick_checklist(self.proposal, people["reviewer"])
                elif choice in ("assess", "refuse"):
                    f.assess_hrdd(
                        self.proposal,
                        people["hrdd"],
                        "refused" if choice == "refuse" else "conditions",
                    )
                elif choice == "score":
                    f.score(
                        self.proposal,
                        people[data.draw(st.sampled_from(["reviewer", "reviewer2", "reviewer3"]))],
                        data.draw(st.integers(0, 10)),
                    )
                elif choice == "diverge":
                    f.score(self.proposal, people["reviewer"], 10)
                    f.score(self.proposal, people["reviewer2"], 1)
                elif choice == "contract":
                    f.complete_contract(self.proposal, people["reviewer"])
                elif choice == "report":
                    kind = data.draw(st.sampled_from(["mid_term", "final"]))
                    f.submit_report(self.proposal, people["owner"], kind)
                elif choice == "decide":
                    kind = data.draw(st.sampled_from(["mid_term", "final"]))
                    report = f.report_of(self.proposal, kind)
                    project_ops.decide_report(
                        report,
                        self.proposal,
                        people[data.draw(st.sampled_from(["reviewer", "hrdd", "outsider"]))],
                        data.draw(
                            st.sampled_from(
                                [
                                    ReportStatus.approved,
                                    ReportStatus.approved,
                                    ReportStatus.returned,
                                ]
                            )
                        ),
                        "Comments.",
                    )
                elif choice == "condition":
                    f.meet_conditions(self.proposal, people["hrdd"])
                elif choice == "pay":
                    # Mostly a released tranche (so that runs get to the later ones).
                    payable = [
                        t.instalment.position
                        for t in project_ops.load_project(self.proposal).tranches()
                        if t.status == "payable"
                    ]
                    f.pay(
                        self.proposal,
                        data.draw(st.sampled_from([*payable, *payable, 1, 2, 3])),
                        people[data.draw(st.sampled_from(["reviewer", "committee", "admin"]))],
                        amount=data.draw(
                            st.sampled_from([None, Decimal("1.00"), Decimal("99999999.00")])
                        ),
                    )
                elif choice == "grievance":
                    project_ops.save_grievance(
                        self.proposal,
                        people["hrdd"],
                        {
                            "received_on": date.today(),
                            "channel": GrievanceChannel.agency,
                            "category": GrievanceCategory.land,
                            "severity": GrievanceSeverity.severe,
                            "description": "Land dispute.",
                            "status": GrievanceStatus.received,
                            "blocks_payment": data.draw(st.booleans()),
                        },
                    )
                else:
                    review_ops.declare_conflict(
                        self.proposal, people["committee"], data.draw(st.booleans()), "Family."
                    )
                db.session.commit()
            except (
                review_ops.ReviewError,
                project_ops.ProjectError,
                WorkflowError,
                KeyError,
                AttributeError,
                TypeError,
                IndexError,
            ):
                db.session.rollback()

        @invariant()
        def status_is_the_last_history_target(self):
            last = db.session.scalar(
                sa.select(StatusChange)
                .where(StatusChange.proposal_id == self.proposal.id)
                .order_by(StatusChange.seq.desc())
                .limit(1)
            )
            db.session.refresh(self.proposal)
            assert last.to_status == self.proposal.status

        @invariant()
        def terminal_states_stay_terminal(self):
            status = self.proposal.status
            workflow = self.workflow
            if self.terminal_seen in workflow.group("withdrawn"):
                assert status == self.terminal_seen
            # A rejection is only undone by an administrator's reopen, which the history shows.
            rejected = workflow.group("rejected")
            if self.terminal_seen in rejected and status not in rejected:
                last = db.session.scalar(
                    sa.select(StatusChange.transition)
                    .where(
                        StatusChange.proposal_id == self.proposal.id,
                        StatusChange.from_status.in_(rejected),
                    )
                    .order_by(StatusChange.seq.desc())
                    .limit(1)
                )
                assert workflow.transitions[last].target == RETURN_FROM_REJECTION
                assert workflow.transitions[last].roles == {"admin"}
            if status in self.ended:
                self.terminal_seen = status

        @invariant()
        def a_grant_means_enough_scores_and_an_amount(self):
            if self.workflow.in_group(self.proposal.status, "granted"):
                assert review_ops.score_summary(self.proposal).enough
                assert self.proposal.granted_eur is not None and self.proposal.granted_eur > 0

        @invariant()
        def an_agreement_means_the_hrdd_review_cleared(self):
            workflow = self.workflow
            if workflow.in_group(self.proposal.status, "contracting") or workflow.in_group(
                self.proposal.status, "contracted"
            ):
                assessment = review_ops.hrdd_assessment(self.proposal)
                assert (
                    assessment is not None and assessment.clause_decision != ClauseDecision.refused
                )
                transitions = set(
                    db.session.scalars(
                        sa.select(StatusChange.transition).where(
                            StatusChange.proposal_id == self.proposal.id
                        )
                    )
                )
                clearing = {t.key for t in workflow.with_guard("hrdd_cleared")}
                assert transitions & clearing

        @invariant()
        def the_money_follows_the_rules(self):
            """Paid never exceeds granted; a tranche is paid only once released, while the
            project could be paid, and nothing after a termination; closure needs the final
            report approved."""
            project = project_ops.load_project(self.proposal)
            if project.contract is None:
                return
            assert project.paid <= project.granted
            history = list(
                db.session.scalars(
                    sa.select(StatusChange)
                    .where(StatusChange.proposal_id == self.proposal.id)
                    .order_by(StatusChange.seq)
                )
            )
            for instalment in project.contract.instalments:
                if not instalment.paid:
                    continue
                event(f"tranche {instalment.position} paid")
                at = instalment.paid_at
                state_then = [row for row in history if row.created_at <= at][-1].to_status
                assert self.workflow.in_group(state_then, "payable"), state_then
                if instalment.release_report:
                    report = project.report(instalment.release_report)
                    approved = [
                        v.decided_at for v in report.versions if v.decision == ReportStatus.approved
                    ]
                    assert approved and approved[0] <= at
                for position in instalment.release_conditions:
                    condition = project.condition(position)
                    assert condition.settled and condition.decided_at <= at
            if self.workflow.in_group(self.proposal.status, "project_ended"):
                ended_at = history[-1].created_at
                assert all(i.paid_at <= ended_at for i in project.contract.instalments if i.paid)
            if (
                self.proposal.status
                in self.workflow.group("project_ended") - set(self.workflow.group("rejected"))
                and history[-1].transition == "close"
            ):
                assert project.report("final").status == ReportStatus.approved

        @invariant()
        def contracted_means_a_complete_signed_contract(self):
            if self.workflow.in_group(self.proposal.status, "signed"):
                contract = review_ops.contract_for(self.proposal)
                assert contract is not None and contract.signed
                assert contract.clause_text and contract.number
                assert sum(i.amount_eur for i in contract.instalments) == contract.granted_eur
                assert self.workflow.in_group(self.proposal.status, "granted")

    return ProposalLife


def test_random_actions_keep_the_invariants(ctx):
    random.seed(0)
    people = f.team()
    people["owner"] = f.applicant()
    calls = {
        "bpf-single-stage": f.call(),
        "bpf-two-stage": f.call(two_stage=True),
        "challenge-fund": f.call(workflow_key="challenge-fund"),
    }
    db.session.commit()
    machine = machine_for(people, calls)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=int(os.environ.get("TRACKER_HYPOTHESIS_EXAMPLES", "25")),
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )


def test_the_challenge_fund_runs_from_submission_to_a_signed_agreement(ctx):
    """The example workflow for a sister facility, end to end, each step by its role."""
    people = f.team()
    owner = f.applicant()
    call = f.call(workflow_key="challenge-fund")
    proposal = f.submitted(call, owner)
    db.session.commit()
    steps = [
        ("start_eligibility", "reviewer"),
        ("pass_eligibility", "reviewer"),
        ("complete_assessment", "reviewer"),
        ("approve", "committee"),
        ("clear_due_diligence", "hrdd"),
        ("sign", "reviewer"),
    ]
    for key, role in steps:
        f.prepare_for(proposal, people)
        f.take(proposal, key, people[role])
        db.session.commit()
    workflow = get_workflow("challenge-fund")
    assert workflow.in_group(proposal.status, "contracted")
    assert review_ops.contract_for(proposal).signed
    history = list(
        db.session.scalars(
            sa.select(StatusChange.to_status)
            .where(StatusChange.proposal_id == proposal.id)
            .order_by(StatusChange.seq)
        )
    )
    assert history == [
        "draft",
        "submitted",
        "eligibility",
        "external_assessment",
        "investment_committee",
        "due_diligence",
        "agreement",
        "contracted",
    ]
