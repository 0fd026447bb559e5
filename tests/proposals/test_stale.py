"""A page saved from an outdated copy is refused, shows what changed, and can be saved again."""

from __future__ import annotations

import re

import pytest

from tests import factories as f
from tests.web import Web, text
from tracker.extensions import db
from tracker.proposals.models import Proposal

VERSION = re.compile(r'name="version" type="hidden" value="(\d+)"')


def page_version(response) -> int:
    return int(VERSION.search(text(response)).group(1))


@pytest.fixture
def colleagues(app):
    with app.app_context():
        call = f.call()
        anna = f.applicant()
        f.applicant("carla@company.lu", "Company S.A.")
        proposal = f.draft(call, anna)
        db.session.commit()
        return proposal.id


def signed_in(app, email):
    web = Web(app.test_client())
    web.login(email)
    return web


def stored(app, proposal_id, name):
    with app.app_context():
        return getattr(db.session.get(Proposal, proposal_id), name)


def test_the_refusal_shows_both_values_and_the_retry_saves(app, colleagues):
    url = f"/proposals/{colleagues}/sections/lead"
    anna, carla = signed_in(app, "anna@company.lu"), signed_in(app, "carla@company.lu")
    seen = page_version(anna.get(url))
    assert (
        carla.post(
            url, {"version": page_version(carla.get(url)), "lead_name": "Carla's name S.A."}
        ).status_code
        == 302
    )

    refused = anna.post(
        url, {"version": seen, "lead_name": "Anna's name S.A.", "lead_employees": "12"}
    )
    assert refused.status_code == 409
    page = text(refused)
    assert "This proposal changed after you opened the page" in page
    table = page[page.index('id="stale-changes"') :]
    assert "Legal name" in table
    assert "Carla&#39;s name S.A." in table  # saved meanwhile, by Carla
    assert "Carla" in table
    assert "Anna&#39;s name S.A." in table  # what Anna typed, beside it
    assert 'value="Anna&#39;s name S.A."' in page  # still in the form
    assert page_version(refused) > seen  # the page now carries the current version
    assert stored(app, colleagues, "lead_name") == "Carla's name S.A."

    retried = anna.post(
        url,
        {"version": page_version(refused), "lead_name": "Anna's name S.A.", "lead_employees": "12"},
    )
    assert retried.status_code == 302
    assert stored(app, colleagues, "lead_name") == "Anna's name S.A."


def test_a_section_posted_without_its_version_is_refused(app, colleagues):
    url = f"/proposals/{colleagues}/sections/lead"
    anna = signed_in(app, "anna@company.lu")
    for data in (
        {"lead_name": "No version"},
        {"version": "", "lead_name": "Empty"},
        {"version": "x7", "lead_name": "Garbled"},
    ):
        response = anna.post(url, data)
        assert response.status_code == 409
        assert "did not say which version" in text(response)
    assert stored(app, colleagues, "lead_name") == "Company S.A."


def test_partners_and_self_assessment_sections_show_what_changed(app, colleagues):
    anna, carla = signed_in(app, "anna@company.lu"), signed_in(app, "carla@company.lu")
    url = f"/proposals/{colleagues}/sections/hrdd"
    seen = page_version(anna.get(url))
    carla.post(
        url,
        {
            "version": page_version(carla.get(url)),
            "steps-0-answer": "Approved by the board in 2024.",
        },
    )
    refused = anna.post(url, {"version": seen, "steps-0-answer": "Our CEO signed the policy."})
    assert refused.status_code == 409
    table = text(refused)[text(refused).index('id="stale-changes"') :]
    assert "Step 1: Your answer" in table
    assert "Approved by the board in 2024." in table
    assert "Our CEO signed the policy." in table
