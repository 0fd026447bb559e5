"""Staff forms saved from an outdated page: refused, what changed shown, the retry saves."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.web import Web, text
from tracker.auth.models import User
from tracker.extensions import db
from tracker.proposals.models import Proposal
from tracker.review.models import Contract, HrddAssessment, Score, ScreeningItem

VERSION = re.compile(
    r'name="version" (?:type="hidden" )?value="(\d+)"|name="version" type="hidden" value="(\d+)"'
)


def page_version(response) -> int:
    match = re.search(r'id="version" name="version" type="hidden" value="(\d+)"', text(response))
    if match is None:
        match = re.search(r'name="version" value="(\d+)"', text(response))
    return int(match.group(1))


@pytest.fixture
def team(app):
    with app.app_context():
        people = f.team()
        db.session.commit()
        return {k: u.email for k, u in people.items()}


def bring(app, state) -> int:
    with app.app_context():
        users = {u.email.split("@")[0]: u for u in db.session.scalars(sa.select(User))}
        people = {
            "reviewer": users["reviewer"],
            "reviewer2": users["reviewer2"],
            "hrdd": users["hrdd"],
            "committee": users["committee"],
            "admin": users["admin"],
        }
        proposal = f.bring_to(state, f.call(), f.applicant(), people)
        db.session.commit()
        return proposal.id


def signed_in(app, email):
    web = Web(app.test_client())
    web.login(email)
    return web


def stale_table(response) -> str:
    page = text(response)
    return page[page.index('id="stale-changes"') :]


def test_hrdd_assessment(app, team):
    proposal_id = bring(app, "hrdd_review")
    url = f"/review/proposals/{proposal_id}/hrdd"
    officer, admin = signed_in(app, team["hrdd"]), signed_in(app, team["admin"])
    seen = page_version(officer.get(url))
    assert (
        admin.post(
            url,
            {
                "version": page_version(admin.get(url)),
                "summary": "Seasonal workers: check housing.",
            },
        ).status_code
        == 302
    )
    refused = officer.post(
        url, {"version": seen, "summary": "Low risk overall.", "risk_category": "C"}
    )
    assert refused.status_code == 409
    table = stale_table(refused)
    assert "Summary of the assessment" in table
    assert "Seasonal workers: check housing." in table and "Low risk overall." in table
    assert page_version(refused) > seen
    retried = officer.post(
        url,
        {"version": page_version(refused), "summary": "Low risk overall.", "risk_category": "C"},
    )
    assert retried.status_code == 302
    with app.app_context():
        assert db.session.get(HrddAssessment, proposal_id).summary == "Low risk overall."


def test_screening_checklist(app, team):
    proposal_id = bring(app, "screening")
    page_url = f"/review/proposals/{proposal_id}"
    first, second = signed_in(app, team["reviewer"]), signed_in(app, team["reviewer2"])
    seen = page_version(first.get(page_url))
    second.post(
        f"{page_url}/screening",
        {
            "version": page_version(second.get(page_url)),
            "item_private_company-met": "yes",
            "item_private_company-note": "Checked the RCS extract.",
        },
    )
    mine = {
        "item_private_company-met": "yes",
        "item_private_company-note": "A S.A. in the register.",
    }
    refused = first.post(f"{page_url}/screening", {"version": seen, **mine})
    assert refused.status_code == 409
    assert "Checked the RCS extract." in stale_table(refused)
    assert 'value="A S.A. in the register."' in text(refused)  # the checklist as typed
    retried = first.post(f"{page_url}/screening", {"version": page_version(refused), **mine})
    assert retried.status_code == 302
    with app.app_context():
        item = db.session.get(ScreeningItem, (proposal_id, "private_company"))
        assert item.note == "A S.A. in the register."


def test_scores(app, team):
    proposal_id = bring(app, "evaluation")
    url = f"/review/proposals/{proposal_id}/score"
    first, second = signed_in(app, team["reviewer"]), signed_in(app, team["reviewer2"])
    marks = {
        f"mark_{k}": "9"
        for k in ("relevance", "impact", "viability", "innovation", "partners", "sustainability")
    }
    seen = page_version(first.get(url))
    assert (
        second.post(
            url,
            {
                "version": page_version(second.get(url)),
                **marks,
                "comment": "Raised after the call.",
            },
        ).status_code
        == 302
    )
    refused = first.post(url, {"version": seen, **marks, "comment": "Strong partners."})
    assert refused.status_code == 409
    assert "Raised after the call." in stale_table(refused)
    assert "Strong partners." in text(refused)
    retried = first.post(
        url, {"version": page_version(refused), **marks, "comment": "Strong partners."}
    )
    assert retried.status_code == 302
    with app.app_context():
        comments = set(
            db.session.scalars(sa.select(Score.comment).where(Score.proposal_id == proposal_id))
        )
        assert comments == {"Strong partners.", "Raised after the call."}


def test_contract(app, team):
    proposal_id = bring(app, "contracting")
    url = f"/review/proposals/{proposal_id}/contract"
    first, second = signed_in(app, team["reviewer"]), signed_in(app, team["reviewer2"])

    def form(page, number):
        fields = dict(
            re.findall(r'name="([a-z_]+(?:-\d+-?[a-z_]*)?)" [^>]*?value="([^"]*)"', text(page))
        )
        fields.pop("csrf_token", None)
        fields["number"] = number
        return fields

    opened = first.get(url)
    seen = page_version(opened)
    current = second.get(url)
    assert (
        second.post(
            url, {**form(current, "BPF-A-0002"), "version": page_version(current)}
        ).status_code
        == 302
    )
    refused = first.post(url, {**form(opened, "BPF-A-0001"), "version": seen})
    assert refused.status_code == 409
    table = stale_table(refused)
    assert "Agreement number" in table and "BPF-A-0002" in table and "BPF-A-0001" in table
    retried = first.post(url, {**form(refused, "BPF-A-0001"), "version": page_version(refused)})
    assert retried.status_code == 302, text(retried)[:3000]
    with app.app_context():
        assert (
            db.session.scalar(sa.select(Contract.number).where(Contract.proposal_id == proposal_id))
            == "BPF-A-0001"
        )


def test_a_staff_action_without_its_version_is_refused(app, team):
    proposal_id = bring(app, "screening")
    reviewer = signed_in(app, team["reviewer"])
    response = reviewer.post(
        f"/review/proposals/{proposal_id}/transitions/reject_screening",
        {"comment": "Not eligible."},
    )
    assert response.status_code == 409
    assert "did not say which version" in text(response)
    assert "Not eligible.</textarea>" in text(response)  # the reason typed is kept
    with app.app_context():
        assert db.session.get(Proposal, proposal_id).status == "screening"
