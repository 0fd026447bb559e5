"""An administrator adds two questions (one shown only for an answer); an applicant answers
them; a reviewer reads the answers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.browser.conftest import sign_in, sign_out
from tracker.extensions import db
from tracker.proposals.models import Proposal


@pytest.fixture
def draft(app):
    with app.app_context():
        f.team()
        f.clause()
        call = f.call(title="Haulage call")
        owner = f.applicant()
        proposal = f.fill(f.draft(call, owner), owner)
        db.session.commit()
        return call.id, proposal.id


def test_questions_built_answered_and_read(page, live_server, app, draft):
    call_id, proposal_id = draft
    sign_in(page, live_server, "admin@agency.lu", f.PASSWORD)
    page.goto(f"{live_server}/admin/calls/{call_id}/questions")
    page.get_by_label("Question (English)").fill("Is the company a road-haulage company?")
    page.get_by_label("Question (French)").fill(
        "L'entreprise est-elle une entreprise de transport routier ?"
    )
    page.get_by_label("Type of answer").select_option("yes_no")
    page.get_by_label("Section of the form").select_option("lead")
    page.get_by_label("An answer is required before submission").check()
    page.get_by_role("button", name="Add the question").click()
    page.get_by_text("Question added").wait_for()
    page.get_by_label("Question (English)").fill("How many trucks does it run?")
    page.get_by_label("Type of answer").select_option("integer")
    page.get_by_label("Section of the form").select_option("lead")
    page.get_by_label("An answer is required before submission").check()
    page.get_by_label("Show only when the answer to").select_option(
        label="Is the company a road-haulage company?"
    )
    page.get_by_label("is one of (values, comma-separated)").fill("yes")
    page.get_by_role("button", name="Add the question").click()
    page.get_by_text("Question added").wait_for()
    sign_out(page)

    sign_in(page, live_server, "anna@company.lu", f.PASSWORD)
    page.goto(f"{live_server}/proposals/{proposal_id}/sections/lead")
    trucks = page.get_by_label("How many trucks does it run?")
    haulage = page.get_by_label("Is the company a road-haulage company?")
    assert not trucks.is_visible()  # shown only for a yes
    haulage.select_option("yes")
    assert trucks.is_visible()
    trucks.fill("12")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Lead applicant saved.").wait_for()
    assert page.get_by_label("How many trucks does it run?").input_value() == "12"
    page.goto(f"{live_server}/proposals/{proposal_id}/submit")
    page.get_by_role("button", name="Submit the proposal").click()
    page.get_by_text("Submitted. Keep the receipt below.").wait_for()
    sign_out(page)

    with app.app_context():
        reference = db.session.get(Proposal, proposal_id).reference
        assert reference
    sign_in(page, live_server, "reviewer@agency.lu", f.PASSWORD)
    page.goto(f"{live_server}/review/proposals/{proposal_id}")
    answers = page.locator(".call-answers").first
    assert "Is the company a road-haulage company?" in answers.inner_text()
    assert "How many trucks does it run?" in answers.inner_text()
    assert "12" in answers.inner_text()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 1
