"""Two colleagues edit the same section: the second is refused, compares, and saves on retry."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.browser.conftest import sign_in
from tracker.extensions import db
from tracker.proposals.models import Proposal


@pytest.fixture
def shared_draft(app):
    with app.app_context():
        call = f.call()
        anna = f.applicant()
        f.applicant("carla@company.lu", "Company S.A.")
        proposal = f.draft(call, anna)
        db.session.commit()
        return proposal.id


def test_the_stale_page_can_be_saved_after_comparing(browser, live_server, app, shared_draft):
    url = f"{live_server}/proposals/{shared_draft}/sections/project"
    contexts = [browser.new_context(locale="en-GB") for _ in range(2)]
    try:
        anna, carla = (context.new_page() for context in contexts)
        sign_in(anna, live_server, "anna@company.lu", f.PASSWORD)
        sign_in(carla, live_server, "carla@company.lu", f.PASSWORD)
        anna.goto(url)
        carla.goto(url)

        carla.get_by_label("Title").fill("Solar cold rooms (Carla)")
        carla.get_by_role("button", name="Save draft").click()
        carla.get_by_text("Project saved.").wait_for()

        anna.get_by_label("Title").fill("Cold chain for fishing cooperatives")
        anna.get_by_label("Summary").fill("Three cooperatives, one pilot.")
        anna.get_by_role("button", name="Save draft").click()
        anna.get_by_text("This proposal changed after you opened the page").wait_for()
        stale = anna.locator("#stale-changes")
        assert "Solar cold rooms (Carla)" in stale.inner_text()
        assert "Cold chain for fishing cooperatives" in stale.inner_text()
        # What Anna typed is still in the form; she keeps it and saves again.
        assert anna.get_by_label("Title").input_value() == "Cold chain for fishing cooperatives"
        assert anna.get_by_label("Summary").input_value() == "Three cooperatives, one pilot."
        anna.get_by_role("button", name="Save draft").click()
        anna.get_by_text("Project saved.").wait_for()
        assert anna.locator("#stale-changes").count() == 0
    finally:
        for context in contexts:
            context.close()
    with app.app_context():
        proposal = db.session.get(Proposal, shared_draft)
        assert (proposal.title, proposal.summary) == (
            "Cold chain for fishing cooperatives",
            "Three cooperatives, one pilot.",
        )
