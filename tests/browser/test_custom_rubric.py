"""An administrator gives a call its own rubric; a reviewer scores with it, guidance in view."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.browser.conftest import sign_in, sign_out
from tracker.extensions import db
from tracker.review import operations as review_ops
from tracker.review.models import Score


@pytest.fixture
def in_evaluation(app):
    with app.app_context():
        people = f.team()
        call = f.call(title="Green SME call")
        proposal = f.submitted(call, f.applicant())
        for key, role in (
            ("start_screening", "reviewer"),
            ("pass_screening", "reviewer"),
            ("clear_hrdd", "hrdd"),
        ):
            f.prepare_for(proposal, people)
            f.take(proposal, key, people[role])
        review_ops.assign_reviewer(proposal, people["reviewer"], people["reviewer"])
        db.session.commit()
        return call.id, proposal.id


def test_an_administrator_sets_a_rubric_and_a_reviewer_scores_with_it(
    page, live_server, app, in_evaluation
):
    call_id, proposal_id = in_evaluation
    sign_in(page, live_server, "admin@agency.lu", f.PASSWORD)
    page.goto(f"{live_server}/admin/calls/{call_id}/edit")
    page.get_by_role("link", name="Edit the rubric").click()
    page.get_by_label("Criterion 1", exact=True).fill("Green business model")
    page.get_by_label("Guidance for the scorer, criterion 1").fill(
        "Emissions avoided per euro granted."
    )
    rows = page.locator(".criterion-row")
    first = rows.nth(0)
    first.get_by_label("Weight").fill("3")
    first.get_by_label("Lowest mark").fill("1")
    first.get_by_label("Highest mark").fill("5")
    second = rows.nth(1)
    page.get_by_label("Criterion 2", exact=True).fill("Korean partner")
    second.get_by_label("Weight").fill("1")
    second.get_by_label("Lowest mark").fill("1")
    second.get_by_label("Highest mark").fill("5")
    for n in range(3, 7):  # the other BPF criteria are removed
        page.get_by_label(f"Criterion {n}", exact=True).fill("")
    page.get_by_label("Independent scores needed").fill("1")
    page.get_by_role("button", name="Save the rubric").click()
    page.get_by_text("Rubric saved.").wait_for()
    sign_out(page)

    sign_in(page, live_server, "reviewer@agency.lu", f.PASSWORD)
    page.goto(f"{live_server}/review/proposals/{proposal_id}")
    page.get_by_role("button", name="Declare").click()
    page.get_by_text("Your declaration is recorded.").wait_for()
    page.get_by_role("link", name="Score this proposal").click()
    assert page.get_by_text("Emissions avoided per euro granted.").is_visible()
    assert page.get_by_role("heading", name="The proposal").is_visible()  # beside the criteria
    form = page.locator("#score-form")
    assert form.locator("fieldset").count() == 2
    form.locator("fieldset").nth(0).get_by_label("Mark (1 to 5)").fill("6")
    form.locator("fieldset").nth(1).get_by_label("Mark (1 to 5)").fill("3")
    page.get_by_role("button", name="Record my score").click()
    page.locator(".invalid-feedback").first.wait_for()  # 6 is off the scale
    form.locator("fieldset").nth(0).get_by_label("Mark (1 to 5)").fill("5")
    page.get_by_role("button", name="Record my score").click()
    page.get_by_text("Your score is recorded.").wait_for()
    with app.app_context():
        [score] = db.session.scalars(sa.select(Score).where(Score.proposal_id == proposal_id))
        assert score.marks == {"green_business_model": 5, "korean_partner": 3}
        assert str(score.total) == "87.50"  # (3 x 4/4 + 1 x 2/4) / 4
        assert [c["title"] for c in score.rubric["criteria"]] == [
            "Green business model",
            "Korean partner",
        ]
        assert review_ops.score_summary(db.session.get(f.Proposal, proposal_id)).enough
