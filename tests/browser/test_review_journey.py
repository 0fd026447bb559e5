"""The review pipeline in the browser with the demo accounts: from submitted to a signed agreement."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.browser.conftest import SCREENSHOTS, no_horizontal_overflow, sign_in, sign_out
from tracker.demo import DEMO_PASSWORD, load_demo
from tracker.extensions import db
from tracker.programmes.rubrics import DEFAULT_CRITERIA
from tracker.proposals.models import Proposal
from tracker.review import rules
from tracker.workflow.history import verify_chains


@pytest.fixture
def submitted_by_demo_applicant(app):
    with app.app_context():
        load_demo(with_history=False)
        from tracker.auth.models import User

        anna = db.session.scalar(sa.select(User).where(User.email == "applicant@demo.lu"))
        call = f.call(title="BPF special call (single stage)")
        proposal = f.submitted(call, anna)
        db.session.commit()
        return proposal.id, proposal.reference


def as_user(page, base, email):
    if page.locator("nav .dropdown-toggle").count():
        sign_out(page)
    sign_in(page, base, email, DEMO_PASSWORD)


def act(page, key, comment=None, note=None, amount=None):
    box = page.locator(f"#action-{key}")
    if amount is not None:
        box.get_by_label("Amount granted (EUR)").fill(amount)
    if comment is not None:
        box.locator("textarea[name=comment]").fill(comment)
    if note is not None:
        box.locator("textarea[name=note]").fill(note)
    box.get_by_role("button").click()
    page.get_by_text("Done: the proposal is now").wait_for()


def test_from_submitted_to_signed_agreement(page, live_server, app, submitted_by_demo_applicant):
    base = live_server
    proposal_id, reference = submitted_by_demo_applicant
    url = f"{base}/review/proposals/{proposal_id}"

    # Screening, with a request for information answered by the applicant.
    as_user(page, base, "reviewer@demo.lu")
    page.goto(f"{base}/review/proposals")
    page.get_by_role("link", name=reference).click()
    act(page, "start_screening")
    for key in rules.MANUAL_SCREENING_ITEMS:
        page.locator(f"#item_{key}-met").select_option("yes")
    page.get_by_role("button", name="Save the checklist").click()
    page.get_by_text("Checklist saved.").wait_for()
    act(
        page,
        "request_information",
        comment="Please send your 2025 annual accounts.",
        note="Internal: turnover figures look rounded.",
    )

    as_user(page, base, "applicant@demo.lu")
    page.goto(f"{base}/proposals/{proposal_id}")
    page.get_by_role("link", name="Read the request and answer").click()
    assert (
        "Please send your 2025 annual accounts."
        in page.locator("#information-request").inner_text()
    )
    page.get_by_label("Your answer").fill("Our audited 2025 accounts are attached.")
    page.get_by_role("button", name="Send the answer").click()
    page.get_by_text("Your answer was sent.").wait_for()

    as_user(page, base, "reviewer@demo.lu")
    page.goto(url)
    act(page, "pass_screening")

    # HRDD review with a condition.
    as_user(page, base, "hrdd@demo.lu")
    page.goto(url)
    page.get_by_role("link", name="Open the HRDD assessment").click()
    page.get_by_label("I checked the activity against the exclusion list").check()
    for key in rules.SALIENT_RISKS:
        page.locator(f"#risk_{key}-relevant").select_option("yes" if key == "labour" else "no")
    page.locator("#risk_labour-severity").select_option("medium")
    page.locator("#risk_labour-likelihood").select_option("medium")
    page.get_by_label("Risk category").select_option("B")
    page.get_by_label("Clause decision").select_option("conditions")
    page.locator("#conditions-0").fill(
        "Occupational health and safety action plan before the first payment."
    )
    page.get_by_role("button", name="Save the assessment").click()
    page.get_by_text("Assessment saved.").wait_for()
    act(page, "clear_hrdd", note="Labour risk medium; plan requested.")

    # Evaluation by two reviewers.
    as_user(page, base, "reviewer@demo.lu")
    page.goto(url)
    for name in ("Rui Reviewer", "Rita Second-Reviewer"):
        page.locator("#reviewer").select_option(label=name)
        page.get_by_role("button", name="Assign", exact=True).click()
        page.get_by_text(f"{name} is assigned.").wait_for()
    for email, mark in (("reviewer@demo.lu", "8"), ("reviewer2@demo.lu", "7")):
        as_user(page, base, email)
        page.goto(url)
        page.get_by_role("button", name="Declare").click()
        page.get_by_text("Your declaration is recorded.").wait_for()
        page.get_by_role("link", name="Score this proposal").click()
        for key, _title, _guidance, _weight in DEFAULT_CRITERIA:
            page.locator(f"#mark_{key}").fill(mark)
        page.get_by_label("Comments").fill("Solid partnership.")
        page.get_by_role("button", name="Record my score").click()
        page.get_by_text("Your score is recorded.").wait_for()
    act(page, "complete_evaluation")

    # Selection by the committee.
    as_user(page, base, "committee@demo.lu")
    page.goto(url)
    page.get_by_role("link", name="Ranking of the call").click()
    page.get_by_text("Decide").first.click()
    act(page, "select", amount="140000")

    # Contract prepared and signed.
    as_user(page, base, "reviewer@demo.lu")
    page.goto(url)
    act(page, "start_contracting")
    page.get_by_role("link", name="Open the agreement").click()
    assert page.locator("#conditions-0").input_value().startswith("Occupational health and safety")
    page.get_by_label("Start date").fill("2027-01-01")
    page.get_by_label("End date").fill("2028-12-31")
    page.get_by_label("Signed by the agency on").fill("2026-11-20")
    page.get_by_label("Signed by the company on").fill("2026-11-21")
    page.get_by_role("button", name="Save the agreement").click()
    page.get_by_text("Agreement saved.").wait_for()
    act(page, "sign_contract")
    assert "Contracted" in page.locator("#status").inner_text()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "review-contracted.png"), full_page=True)

    # The staff pages fit a phone screen too.
    page.set_viewport_size({"width": 375, "height": 740})
    for path in (
        "/review/proposals",
        f"/review/proposals/{proposal_id}",
        f"/review/proposals/{proposal_id}/contract",
        f"/review/proposals/{proposal_id}/hrdd",
    ):
        page.goto(base + path)
        assert no_horizontal_overflow(page), path
    page.set_viewport_size({"width": 1280, "height": 900})

    # The applicant sees the public steps, never the internal notes.
    as_user(page, base, "applicant@demo.lu")
    page.goto(f"{base}/proposals/{proposal_id}")
    timeline = page.locator(".timeline").inner_text()
    for step in (
        "Agreement signed",
        "Selected for co-financing",
        "Human-rights due-diligence review completed",
        "Answer sent",
        "Information requested",
        "Found eligible",
        "Submitted",
    ):
        assert step in timeline, step
    assert "Please send your 2025 annual accounts." in timeline
    assert (
        "Internal" not in timeline
        and "rounded" not in timeline
        and "plan requested" not in timeline
    )
    assert "Complete evaluation" not in timeline

    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        assert proposal.status == "contracted"
        assert str(proposal.granted_eur) == "140000.00"
        assert verify_chains().broken == []


def test_rejection_at_hrdd_with_a_refused_clause(
    page, live_server, app, submitted_by_demo_applicant
):
    base = live_server
    proposal_id, _reference = submitted_by_demo_applicant
    with app.app_context():
        from tracker.auth.models import User

        people = {u.email.split("@")[0]: u for u in db.session.scalars(sa.select(User))}
        proposal = db.session.get(Proposal, proposal_id)
        f.take(proposal, "start_screening", people["reviewer"])
        f.tick_checklist(proposal, people["reviewer"])
        f.take(proposal, "pass_screening", people["reviewer"])
        f.assess_hrdd(proposal, people["hrdd"], decision="refused")
        db.session.commit()
    as_user(page, base, "hrdd@demo.lu")
    page.goto(f"{base}/review/proposals/{proposal_id}")
    blocked = page.locator("#action-clear_hrdd").inner_text()
    assert "The clause is refused" in blocked
    act(page, "reject_hrdd", comment="Forced-labour risk in the supply chain cannot be mitigated.")
    assert re.search("Rejected", page.locator("#status").inner_text())
    as_user(page, base, "applicant@demo.lu")
    page.goto(f"{base}/proposals/{proposal_id}")
    assert (
        "Forced-labour risk in the supply chain cannot be mitigated."
        in page.locator(".timeline").inner_text()
    )
