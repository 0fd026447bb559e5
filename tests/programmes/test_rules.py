"""A facility's rules as data: rubrics per call, rates by income group, grace periods,
extensions and rolling calls reviewed in batches."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.web import Web, text
from tracker.core.time import LUXEMBOURG, utcnow
from tracker.extensions import db
from tracker.programmes import rubrics
from tracker.proposals import eligibility
from tracker.proposals.models import Submission
from tracker.review import operations as review_ops
from tracker.review.models import Score
from tracker.workflow.models import StatusChange
from tracker.workflow.operations import GuardFailed, perform_transition

GREEN = {
    "scores_required": 2,
    "divergence_percent": Decimal("30"),
    "threshold": None,
    "criteria": [
        {
            "title": "Green business model",
            "guidance": "Emissions avoided.",
            "weight": Decimal(1),
            "scale_min": 1,
            "scale_max": 5,
        },
        {
            "title": "Korean partner",
            "guidance": "",
            "weight": Decimal(3),
            "scale_min": 1,
            "scale_max": 5,
        },
    ],
}


def in_evaluation(people, **call_settings):
    call = f.call(**call_settings)
    proposal = f.submitted(call, f.applicant())
    for key, role in (
        ("start_screening", "reviewer"),
        ("pass_screening", "reviewer"),
        ("clear_hrdd", "hrdd"),
    ):
        f.prepare_for(proposal, people)
        f.take(proposal, key, people[role])
    return call, proposal


def score(proposal, reviewer, marks: dict):
    if not review_ops.is_assigned(proposal, reviewer):
        review_ops.assign_reviewer(proposal, reviewer, reviewer)
    if review_ops.conflict_of(proposal, reviewer) is None:
        review_ops.declare_conflict(proposal, reviewer, False)
    return review_ops.submit_score(proposal, reviewer, marks)


def test_each_score_keeps_the_rubric_it_was_given_under(ctx):
    people = f.team()
    call, proposal = in_evaluation(people)
    rubrics.save_rubric(call, GREEN, people["admin"])
    keys = [c.key for c in call.rubric.criteria]
    assert keys == ["green_business_model", "korean_partner"]
    first = score(proposal, people["reviewer"], {keys[0]: 5, keys[1]: 3})
    # (1 x 4/4 + 3 x 2/4) / 4 x 100
    assert first.total == Decimal("62.50")
    assert [c["title"] for c in first.rubric["criteria"]] == [
        "Green business model",
        "Korean partner",
    ]
    db.session.commit()

    edited = {**GREEN, "criteria": [{**c, "weight": Decimal(2)} for c in GREEN["criteria"]]}
    edited["criteria"][0]["key"] = keys[0]
    edited["criteria"][1]["key"] = keys[1]
    rubrics.save_rubric(call, edited, people["admin"])
    db.session.commit()
    db.session.refresh(first)
    assert first.total == Decimal("62.50")  # unchanged by the edit
    assert first.rubric["criteria"][1]["weight"] == "3.00"
    second = score(proposal, people["reviewer2"], {keys[0]: 5, keys[1]: 3})
    assert second.total == Decimal("75.00")  # (2 x 1 + 2 x 0.5) / 4
    assert second.rubric["criteria"][1]["weight"] == "2.00"
    with pytest.raises(review_ops.ReviewError, match="from 1 to 5"):
        score(proposal, people["reviewer3"], {keys[0]: 0, keys[1]: 3})


def test_a_stricter_divergence_rule_asks_for_a_further_score(ctx):
    people = f.team()
    call, proposal = in_evaluation(people)
    f.score(proposal, people["reviewer"], 7)  # 70.00
    f.score(proposal, people["reviewer2"], 6)  # 60.00: 14 % of 70 apart
    assert review_ops.score_summary(proposal).enough  # the BPF's 30 % rule
    rubrics.save_rubric(
        call,
        {
            "scores_required": 2,
            "divergence_percent": Decimal("10"),
            "threshold": None,
            "criteria": [
                {
                    "key": c.key,
                    "title": c.title,
                    "guidance": c.guidance,
                    "weight": c.weight,
                    "scale_min": c.scale_min,
                    "scale_max": c.scale_max,
                }
                for c in call.rubric.criteria
            ],
        },
        people["admin"],
    )
    summary = review_ops.score_summary(proposal)
    assert summary.divergent and not summary.enough and summary.needed == 3
    with pytest.raises(GuardFailed, match="differ by more than 10"):
        f.take(proposal, "complete_evaluation", people["reviewer"])
    db.session.rollback()


def test_a_threshold_keeps_a_proposal_out_of_the_ranking(ctx):
    people = f.team()
    call = f.call()
    strong = f.bring_to("selection", call, f.applicant(), people)  # scored 70 and 80
    weak = f.submitted(call, f.applicant("bob@weak.lu", "Weak S.A."))
    for key, role in (
        ("start_screening", "reviewer"),
        ("pass_screening", "reviewer"),
        ("clear_hrdd", "hrdd"),
    ):
        f.prepare_for(weak, people)
        f.take(weak, key, people[role])
    f.score(weak, people["reviewer"], 5)
    f.score(weak, people["reviewer2"], 5)
    f.take(weak, "complete_evaluation", people["reviewer"])
    ranking = review_ops.selection_ranking(call)
    assert [r.proposal.id for r in ranking.ranked] == [strong.id, weak.id]
    call.rubric.threshold = Decimal("60.00")
    ranking = review_ops.selection_ranking(call)
    assert [r.proposal.id for r in ranking.ranked] == [strong.id]
    assert [r.proposal.id for r in ranking.below_threshold] == [weak.id]


def test_the_rate_follows_the_partner_countrys_income_group(ctx):
    call = f.call(
        rate_by_income_group={"ldc": "85.00", "other_lic": "85.00"},
        ceiling_eur=Decimal("400000.00"),
    )
    owner = f.applicant()
    proposal = f.fill(f.draft(call, owner), owner)
    proposal.partner_country = "SN"  # Senegal: least developed
    assert eligibility.rate_for(proposal, call) == Decimal("85.00")
    assert eligibility.max_grant(proposal, call) == Decimal("255000.00")  # 85 % of 300,000
    proposal.partner_country = "VN"  # Viet Nam: lower middle income
    assert eligibility.rate_for(proposal, call) == Decimal("50.00")
    assert eligibility.max_grant(proposal, call) == Decimal("150000.00")


def luxembourg(year, month, day, hour=0, minute=0, second=0):
    return datetime(year, month, day, hour, minute, second, tzinfo=LUXEMBOURG)


@pytest.mark.parametrize(
    ("seconds_after_midnight", "accepted", "late"),
    [
        (-1, True, False),  # 23:59:59 the evening before
        (0, True, True),  # midnight: the grace period begins
        (29 * 60 + 59, True, True),
        (30 * 60, False, None),
    ],
)
def test_a_grace_period_after_a_luxembourg_midnight_deadline(
    ctx, seconds_after_midnight, accepted, late
):
    call = f.call(opens_in_days=-30)
    owner = f.applicant()
    proposal = f.fill(f.draft(call, owner), owner)
    day = (utcnow() + timedelta(days=3)).astimezone(LUXEMBOURG).date()
    midnight = luxembourg(day.year, day.month, day.day)
    call.closes_at = midnight  # the stroke of midnight, Luxembourg time
    call.grace_minutes = 30
    at = midnight + timedelta(seconds=seconds_after_midnight)
    if not accepted:
        with pytest.raises(GuardFailed, match="call closed"):
            perform_transition(proposal, "submit", owner, now=at)
        return
    perform_transition(proposal, "submit", owner, now=at)
    [kept] = db.session.scalars(sa.select(Submission).where(Submission.proposal_id == proposal.id))
    assert kept.late is late


def test_an_administrator_extends_one_proposals_deadline(app):
    with app.app_context():
        call = f.call()
        owner = f.applicant()
        late = f.fill(f.draft(call, owner), owner)
        other = f.fill(f.draft(call, owner), owner)
        call.opens_at = utcnow() - timedelta(days=60)
        call.closes_at = utcnow() - timedelta(hours=1)  # closed an hour ago
        f.staff("admin", "admin@agency.lu")
        db.session.commit()
        call_id, late_id, other_id = call.id, late.id, other.id
    admin = Web(app.test_client())
    admin.login("admin@agency.lu")
    new = (utcnow() + timedelta(days=3)).astimezone(LUXEMBOURG).strftime("%Y-%m-%dT%H:%M")
    response = admin.post(
        f"/admin/calls/{call_id}/extensions",
        {
            "proposal_number": str(late_id),
            "deadline": new,
            "reason": "The partner's letter was delayed.",
        },
    )
    assert response.status_code == 302
    assert "deadline of proposal no." in text(admin.get(response.headers["Location"]))
    with app.app_context():
        proposal = db.session.get(f.Proposal, late_id)
        assert proposal.deadline_extended_to is not None
        row = db.session.scalar(
            sa.select(StatusChange)
            .where(StatusChange.proposal_id == late_id)
            .order_by(StatusChange.seq.desc())
        )
        assert (row.transition, row.from_status, row.to_status) == (
            "extend_deadline",
            "draft",
            "draft",
        )
        assert row.comment.startswith("New deadline:") and "partner's letter" in row.comment
        owner = db.session.get(f.User, proposal.created_by_id)
        perform_transition(proposal, "submit", owner)  # accepted, under the extension
        with pytest.raises(GuardFailed, match="call closed"):
            perform_transition(db.session.get(f.Proposal, other_id), "submit", owner)
        db.session.rollback()
    # The applicant reads it on their timeline.
    applicant = Web(app.test_client())
    applicant.login("anna@company.lu")
    assert "Deadline extended" in text(applicant.get(f"/proposals/{late_id}"))


def test_a_rolling_call_sorts_proposals_into_batches(ctx):
    people = f.team()
    call = f.call(opens_in_days=-100)
    call.closes_at = None
    call.rolling = True
    first_cut = utcnow() + timedelta(days=10)
    from tracker.programmes.operations import add_batch

    add_batch(
        call, title="Spring round", closes_at=first_cut, budget_envelope_eur=Decimal("300000")
    )
    add_batch(call, title="Autumn round", closes_at=first_cut + timedelta(days=90))
    owner = f.applicant()
    early = f.fill(f.draft(call, owner), owner)
    perform_transition(early, "submit", owner, now=first_cut - timedelta(days=1))
    later = f.fill(f.draft(call, owner), owner)
    perform_transition(later, "submit", owner, now=first_cut + timedelta(days=1))
    assert early.batch.title == "Spring round" and later.batch.title == "Autumn round"
    assert call.is_open(utcnow() + timedelta(days=3000))  # no closing date
    for proposal in (early, later):
        for key, role in (
            ("start_screening", "reviewer"),
            ("pass_screening", "reviewer"),
            ("clear_hrdd", "hrdd"),
            ("complete_evaluation", "reviewer"),
        ):
            f.prepare_for(proposal, people)
            f.take(proposal, key, people[role])
    spring = review_ops.selection_ranking(call, call.batches[0])
    assert [r.proposal.id for r in spring] == [early.id]
    assert spring.envelope == Decimal("300000.00")
    assert [r.proposal.id for r in review_ops.selection_ranking(call, call.batches[1])] == [
        later.id
    ]
    assert db.session.scalar(sa.select(sa.func.count(Score.id))) == 4
