"""A project in the browser from its signature to its closure, with the demo accounts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.browser.conftest import no_horizontal_overflow, sign_in, sign_out
from tracker.demo import DEMO_PASSWORD, load_demo
from tracker.extensions import db
from tracker.workflow.history import verify_chains


@pytest.fixture
def ready_to_sign(app):
    """A proposal of the demo applicant, its agreement complete and waiting for the signature."""
    with app.app_context():
        load_demo(with_history=False)
        from tracker.auth.models import User

        def demo(email):
            return db.session.scalar(sa.select(User).where(User.email == email))

        anna = demo("applicant@demo.lu")
        people = {
            "reviewer": demo("reviewer@demo.lu"),
            "reviewer2": demo("reviewer2@demo.lu"),
            "hrdd": demo("hrdd@demo.lu"),
            "committee": demo("committee@demo.lu"),
            "admin": demo("admin@demo.lu"),
        }
        proposal = f.bring_to("contracting", f.call(title="BPF call (projects)"), anna, people)
        db.session.commit()
        return proposal.id


def as_user(page, base, email):
    if page.locator("nav .dropdown-toggle").count():
        sign_out(page)
    sign_in(page, base, email, DEMO_PASSWORD)


def act(page, key, comment=None):
    box = page.locator(f"#action-{key}")
    if comment is not None:
        box.locator("textarea[name=comment]").fill(comment)
    box.get_by_role("button").click()
    page.get_by_text("Done: the proposal is now").wait_for()


def write_report(page, base, proposal_id, title, narrative, evidence=True):
    page.goto(f"{base}/projects/{proposal_id}/company")
    page.get_by_role("link", name=title).click()
    page.get_by_label("Progress of the project").fill(narrative)
    page.get_by_label("Jobs created so far").fill("9")
    page.get_by_label("Expenses incurred so far (EUR)").fill("150000")
    if evidence:
        page.get_by_label("Evidence for HRDD condition 1").fill("Action plan adopted in May.")
    page.get_by_role("button", name="Submit the report").click()
    page.get_by_text("Report submitted. The agency will review it.").wait_for()


def decide(page, base, proposal_id, title, decision, comment):
    page.goto(f"{base}/projects/{proposal_id}")
    page.locator("#reports").get_by_role("link", name=title).click()
    page.get_by_label("Decision", exact=True).select_option(decision)
    page.get_by_label("Comments for the company").fill(comment)
    page.get_by_role("button", name="Record the decision").click()


def pay(page, base, proposal_id, position, amount=None):
    page.goto(f"{base}/projects/{proposal_id}")
    box = page.locator("section[aria-labelledby^='pay-']").filter(
        has_text=f"Record the payment of tranche {position}"
    )
    if amount is not None:
        box.get_by_label("Amount paid (EUR)").fill(amount)
    box.get_by_label("Payment reference").fill(f"TR-{position}")
    box.get_by_role("button", name="Record the payment").click()
    page.get_by_text("Payment recorded.").wait_for()


def test_from_signature_to_closure(page, live_server, app, ready_to_sign):
    base, pid = live_server, ready_to_sign

    # The signature opens the project; implementation starts.
    as_user(page, base, "reviewer@demo.lu")
    page.goto(f"{base}/review/proposals/{pid}/contract")
    act(page, "sign_contract")
    page.goto(f"{base}/projects/{pid}")
    assert "Payable" in page.locator("#tranche-1").inner_text()
    assert "Waiting" in page.locator("#tranche-2").inner_text()
    act(page, "start_implementation")

    # The company submits the mid-term report; it is returned, corrected, approved.
    as_user(page, base, "applicant@demo.lu")
    page.goto(f"{base}/proposals/{pid}")
    page.get_by_role("link", name="Your project: agreement, reports and payments").click()
    assert "Mid-term report" in page.locator("#reports").inner_text()
    write_report(page, base, pid, "Mid-term report", "The line runs; training delayed.")
    as_user(page, base, "reviewer@demo.lu")
    decide(page, base, pid, "Mid-term report", "returned", "Say when the training will happen.")
    page.get_by_text("Report returned to the company.").wait_for()
    as_user(page, base, "applicant@demo.lu")
    page.goto(f"{base}/projects/{pid}/company")
    page.get_by_role("link", name="Mid-term report").click()
    assert "Say when the training will happen." in page.get_by_role("alert").first.inner_text()
    write_report(page, base, pid, "Mid-term report", "The line runs; training in June.")
    as_user(page, base, "reviewer@demo.lu")
    decide(page, base, pid, "Mid-term report", "approved", "Thank you.")
    page.get_by_text("Report approved.").wait_for()

    # The HRDD officer verifies the condition; the two first tranches are paid.
    as_user(page, base, "hrdd@demo.lu")
    page.goto(f"{base}/projects/{pid}")
    box = page.locator("#condition-1")
    box.get_by_label("Evidence verified, or the reason for the waiver").fill(
        "Action plan and timesheets checked on site."
    )
    box.get_by_role("button", name="Record the decision").click()
    page.get_by_text("Condition 1 recorded.").wait_for()
    as_user(page, base, "reviewer@demo.lu")
    pay(page, base, pid, 1)
    pay(page, base, pid, 2)

    # A grievance is logged, then addressed.
    page.goto(f"{base}/projects/{pid}")
    page.get_by_text("Log a grievance").click()
    new = page.locator("#grievances form").last
    new.get_by_label("Category").select_option("labour")
    new.get_by_label("Severity").select_option("high")
    new.get_by_label("What is the grievance about?").fill("Overtime not paid in March.")
    new.get_by_label("Raised anonymously").check()
    new.get_by_role("button", name="Log the grievance").click()
    page.get_by_text("Grievance saved.").wait_for()
    page.goto(f"{base}/projects/grievances")
    assert "Overtime not paid in March." in page.locator("main").inner_text()

    # The final report, the last tranche with an underspend, the closure.
    as_user(page, base, "applicant@demo.lu")
    write_report(page, base, pid, "Final report", "All done.", evidence=False)
    as_user(page, base, "reviewer@demo.lu")
    decide(page, base, pid, "Final report", "approved", "Well done.")
    page.get_by_text("Report approved.").wait_for()
    pay(page, base, pid, 3, amount="30000")
    page.goto(f"{base}/projects/{pid}")
    act(page, "close")
    assert "Closed" in page.locator("#status").inner_text()
    summary = page.locator("#agreement-title").locator("..").inner_text()
    assert "Still to pay" in summary
    assert no_horizontal_overflow(page)

    page.goto(f"{base}/projects/")
    assert "Closed" in page.locator("main").inner_text()
    with app.app_context():
        assert verify_chains().broken == []
