"""Every change a decision rests on is recorded: who, when, which object, old and new values."""

from __future__ import annotations

import sqlalchemy as sa

from tests import factories as f
from tests.web import Web, text
from tracker.audit.models import AuditEntry
from tracker.extensions import db
from tracker.review import operations as review_ops
from tracker.review.models import Score


def entries(**where) -> list[AuditEntry]:
    query = sa.select(AuditEntry).order_by(AuditEntry.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEntry, name) == value)
    return list(db.session.scalars(query))


def last(object_type: str) -> AuditEntry:
    return entries(object_type=object_type)[-1]


def test_each_kind_of_change_is_recorded_with_old_and_new_values(ctx):
    people = f.team()
    owner = f.applicant()
    proposal = f.bring_to("evaluation", f.call(), owner, people)
    db.session.flush()

    lead = entries(object_type="section:lead")[0]
    assert lead.actor_id == owner.id and lead.proposal_id == proposal.id
    assert lead.changes["lead_turnover_1"] == [None, "2000000.00"]
    assert entries(object_type="document")[0].action == "created"
    screening = last("screening")
    assert screening.changes["item_private_company-met"] == [None, "yes"]
    hrdd = last("hrdd_assessment")
    assert hrdd.actor_id == people["hrdd"].id
    assert hrdd.changes["clause_decision"] == [None, "conditions"]
    assert hrdd.changes["risk_labour-severity"] == [None, "medium"]
    assert {e.changes["reviewer"][1] for e in entries(object_type="assignment")} == {
        people["reviewer"].name,
        people["reviewer2"].name,
    }

    # A scorer who then declares a conflict: the score is removed, and what it was is kept.
    score = db.session.scalar(sa.select(Score).where(Score.reviewer_id == people["reviewer2"].id))
    score_id = score.id
    review_ops.declare_conflict(proposal, people["reviewer2"], True, "My brother works there.")
    removed = entries(object_type="score", object_id=str(score_id))[-1]
    assert removed.action == "deleted"
    assert removed.changes["mark_impact"] == ["8", None]
    assert last("conflict").changes["has_conflict"] == ["no", "yes"]

    # Selection and the agreement.
    f.score(proposal, people["reviewer3"], 8)
    f.take(proposal, "complete_evaluation", people["reviewer"])
    f.take(proposal, "select", people["committee"])
    assert last("selection").changes == {"granted_eur": [None, "150000.00"]}
    f.take(proposal, "start_contracting", people["reviewer"])
    f.complete_contract(proposal, people["reviewer"])
    prepared, filled = entries(object_type="contract")
    assert prepared.action == "created"
    assert prepared.changes["number"] == [None, f"{proposal.reference}-A"]
    assert prepared.changes["instalments-0-percent"] == [None, "25.00"]
    assert filled.actor_id == people["reviewer"].id
    assert filled.changes["start_date"][0] is None and filled.changes["start_date"][1]
    f.take(proposal, "sign_contract", people["reviewer"])
    signed = last("contract")
    assert signed.changes["signed_at"][0] is None and signed.changes["signed_at"][1]


def test_calls_and_roles_are_recorded_and_shown_to_administrators(app):
    with app.app_context():
        people = f.team()
        call = f.call()
        db.session.commit()
        call_id, reviewer_id = call.id, people["reviewer"].id
    admin = Web(app.test_client())
    admin.login("admin@agency.lu")
    form = text(admin.get(f"/admin/calls/{call_id}/edit"))
    assert "Changes to this call" not in form  # made by a factory, not through the pages
    data = {
        "title": "Call 1",
        "workflow_key": "bpf-single-stage",
        "opens_at": "2026-01-01T09:00",
        "closes_at": "2027-12-31T17:00",
        "cofinancing_rate": "45",
        "ceiling_eur": "200 000",
        "road_haulage_ceiling_eur": "100000",
        "min_company_age_years": "3",
        "min_employees": "5",
        "min_turnover_eur": "500000",
        "turnover_multiple": "3",
        "turnover_base": "requested",
    }
    assert admin.post(f"/admin/calls/{call_id}/edit", data).status_code == 302
    page = text(admin.get(f"/admin/calls/{call_id}/edit"))
    assert "Changes to this call" in page
    assert "Co-financing rate (%)" in page and "45.00" in page
    with app.app_context():
        entry = entries(object_type="call", object_id=str(call_id))[-1]
        assert entry.changes["cofinancing_rate"] == ["50.00", "45.00"]
        assert entry.actor.email == "admin@agency.lu"

    assert (
        admin.post(
            f"/admin/users/{reviewer_id}", {"roles": ["reviewer", "hrdd"], "active": "y"}
        ).status_code
        == 302
    )
    page = text(admin.get(f"/admin/users/{reviewer_id}"))
    assert "Changes to this account" in page and "hrdd, reviewer" in page
    with app.app_context():
        entry = entries(object_type="user", object_id=str(reviewer_id))[-1]
        assert entry.changes == {"roles": ["reviewer", "hrdd, reviewer"]}


def test_staff_see_the_changes_on_the_proposal_page_and_applicants_do_not(app):
    with app.app_context():
        people = f.team()
        owner = f.applicant()
        proposal = f.bring_to("evaluation", f.call(), owner, people)
        db.session.commit()
        proposal_id = proposal.id
    reviewer = Web(app.test_client())
    reviewer.login("reviewer@agency.lu")
    page = text(reviewer.get(f"/review/proposals/{proposal_id}"))
    changes = page[page.index('id="changes"') :]
    assert "HRDD assessment" in changes and "Clause decision" in changes
    assert "Turnover, last year (EUR)" in changes
    applicant = Web(app.test_client())
    applicant.login("anna@company.lu")
    assert "HRDD assessment" not in text(applicant.get(f"/proposals/{proposal_id}"))


def test_a_change_rolled_back_leaves_no_record(ctx):
    people = f.team()
    proposal = f.bring_to("hrdd_review", f.call(), f.applicant(), people)
    db.session.commit()
    before = len(entries())
    try:
        review_ops.save_hrdd_assessment(
            proposal,
            people["hrdd"],
            {"exclusion_hit": True, "clause_decision": "standard"},  # refused: a hit means refused
        )
    except review_ops.ReviewError:
        db.session.rollback()
    assert len(entries()) == before
