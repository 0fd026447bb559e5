"""My work: what waits for each member of staff, by stage, the longest waiting first."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from tests import factories as f
from tests.review.test_views import count_queries, make, signed_in
from tests.web import text
from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.proposals.models import Proposal


def _section(page: str, key: str) -> str:
    found = re.search(rf'<section[^>]*id="{key}".*?</section>', page, re.S)
    return found.group(0) if found else ""


def _age(app, ids, days):
    with app.app_context():
        for proposal_id, age in zip(ids, days, strict=True):
            db.session.get(Proposal, proposal_id).updated_at = utcnow() - timedelta(days=age)
        db.session.commit()


def test_staff_land_on_their_work_and_the_oldest_comes_first(app, people):
    ids = make(app, "submitted", 3)
    _age(app, ids, [2, 9, 5])
    reviewer = signed_in(app, "reviewer@agency.lu")
    landing = reviewer.get("/")
    assert landing.status_code == 302 and landing.headers["Location"].endswith("/review/my-work")
    page = text(reviewer.get("/review/my-work"))
    submitted = _section(page, "state-submitted")
    assert '<span class="badge text-bg-primary">3</span>' in submitted
    with app.app_context():
        references = [db.session.get(Proposal, i).reference for i in (ids[1], ids[2], ids[0])]
    assert re.findall(r">([A-Z]+-\d{4}-\d+)<", submitted) == references
    assert "status=submitted" in submitted  # the whole pile, one click away


def test_each_role_sees_the_stages_it_moves_on(app, people):
    make(app, "submitted", 1)
    make(app, "hrdd_review", 2)
    make(app, "selection", 1)
    hrdd = text(signed_in(app, "hrdd@agency.lu").get("/review/my-work"))
    assert _section(hrdd, "state-hrdd_review") and not _section(hrdd, "state-submitted")
    committee = text(signed_in(app, "committee@agency.lu").get("/review/my-work"))
    assert _section(committee, "state-selection") and not _section(committee, "state-hrdd_review")
    reviewer = text(signed_in(app, "reviewer@agency.lu").get("/review/my-work"))
    assert _section(reviewer, "state-submitted") and not _section(reviewer, "state-selection")
    assert not _section(reviewer, "state-hrdd_review")  # asking the company is not the stage
    reporting = text(signed_in(app, "reporting@agency.lu").get("/review/my-work"))
    assert "Nothing waits for you" in reporting
    assert signed_in(app, "anna@company.lu").get("/review/my-work").status_code == 403


def test_scores_wait_for_the_assigned_reviewer_until_given(app, people):
    [proposal_id] = make(app, "evaluation", 1)
    with app.app_context():
        from tracker.auth.models import User

        proposal = db.session.get(Proposal, proposal_id)
        reviewer3 = db.session.scalar(sa.select(User).where(User.email == "reviewer3@agency.lu"))
        f.review_ops.assign_reviewer(proposal, reviewer3, reviewer3)
        db.session.commit()
        reference, reviewer_id = proposal.reference, reviewer3.id
    page = text(signed_in(app, "reviewer3@agency.lu").get("/review/my-work"))
    assert reference in _section(page, "scores")
    with app.app_context():
        f.score(db.session.get(Proposal, proposal_id), db.session.get(User, reviewer_id))
        db.session.commit()
    page = text(signed_in(app, "reviewer3@agency.lu").get("/review/my-work"))
    assert not _section(page, "scores")


def test_the_page_runs_the_same_queries_for_few_and_many(app, people):
    counts = {}
    reviewer = signed_in(app, "reviewer@agency.lu")
    for size in (2, 12):
        make(app, "submitted", size // 2)
        make(app, "hrdd_review", size // 2)
        with count_queries(app) as counter:
            assert reviewer.get("/review/my-work").status_code == 200
        counts[size] = counter["n"]
    assert counts[2] == counts[12], counts


def test_an_evaluator_sees_the_scores_asked_of_them_and_nothing_else(app, people):
    [assigned, _other] = make(app, "evaluation", 2)
    with app.app_context():
        from tracker.auth.models import User

        evaluator = f.staff("evaluator", "eli@partner.org")
        reviewer = db.session.scalar(sa.select(User).where(User.email == "reviewer@agency.lu"))
        proposal = db.session.get(Proposal, assigned)
        f.review_ops.assign_reviewer(proposal, evaluator, reviewer)
        db.session.commit()
        reference = proposal.reference
    page = text(signed_in(app, "eli@partner.org").get("/review/my-work"))
    assert re.findall(r">([A-Z]+-\d{4}-\d+)<", _section(page, "scores")) == [reference]
    assert not _section(page, "state-evaluation")  # closing the evaluation is the reviewers'
