"""The applicant's journey through the web interface: sections, ownership, submission, withdrawal."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.web import Web, text
from tracker.core.time import LUXEMBOURG, utcnow
from tracker.extensions import db
from tracker.proposals.models import Proposal
from tracker.workflow.models import StatusChange


@pytest.fixture
def setup(app):
    """An open single-stage call, a published clause, two companies and a reviewer."""
    with app.app_context():
        call = f.call()
        f.clause()
        anna = f.applicant("anna@company.lu", "Company S.A.")
        f.applicant("bob@other.lu", "Other S.A.")
        f.staff("reviewer")
        db.session.commit()
        return {"call_id": call.id, "anna_id": anna.id}


def start_draft(web: Web, call_id: int) -> str:
    response = web.post(f"/calls/{call_id}/proposals")
    assert response.status_code == 302
    return response.headers["Location"]


def errors_in(response) -> list[str]:
    return re.findall(
        r'class="invalid-feedback d-block" role="alert">\s*<div>([^<]*)</div>', text(response)
    )


def load(app, proposal_id):
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        return {
            "status": proposal.status,
            "reference": proposal.reference,
            "version": proposal.version,
            "lead_name": proposal.lead_name,
            "lead_employees": proposal.lead_employees,
            "unsaved": proposal.unsaved_inputs,
            "history": [
                (r.transition, r.to_status)
                for r in db.session.scalars(
                    sa.select(StatusChange)
                    .where(StatusChange.proposal_id == proposal_id)
                    .order_by(StatusChange.seq)
                )
            ],
        }


def test_a_new_draft_starts_its_history(app, client, setup):
    web = Web(client)
    web.login("anna@company.lu")
    url = start_draft(web, setup["call_id"])
    proposal_id = int(url.rsplit("/", 1)[1])
    state = load(app, proposal_id)
    assert state["status"] == "draft"
    assert state["history"] == [("create", "draft")]
    assert state["lead_name"] == "Company S.A."  # prefilled from the company
    page = text(web.get(url))
    assert "Draft created" in page
    assert "0 to do" not in page


def test_saving_a_section_keeps_invalid_values_and_saves_the_rest(app, client, setup):
    web = Web(client)
    web.login("anna@company.lu")
    url = start_draft(web, setup["call_id"])
    proposal_id = int(url.rsplit("/", 1)[1])
    response = web.post(
        f"{url}/sections/lead",
        {
            "version": load(app, proposal_id)["version"],
            "lead_name": "Company Renamed S.A.",
            "lead_employees": "twelve",
            "lead_turnover_1": "1,250,000.50",
        },
    )
    assert response.status_code == 422
    assert "Use digits only. Write it like 150000 or 150,000." in errors_in(response)
    assert 'value="twelve"' in text(response)
    state = load(app, proposal_id)
    assert state["lead_name"] == "Company Renamed S.A."
    assert state["lead_employees"] is None
    assert state["unsaved"] == {"lead": {"lead_employees": ["twelve"]}}

    # Another sitting: the invalid value is still there, with its error.
    again = web.get(f"{url}/sections/lead")
    assert 'value="twelve"' in text(again)
    assert "Use digits only. Write it like 150000 or 150,000." in errors_in(again)

    fixed = web.post(
        f"{url}/sections/lead",
        {
            "version": load(app, proposal_id)["version"],
            "lead_name": "Company Renamed S.A.",
            "lead_employees": "12",
        },
    )
    assert fixed.status_code == 302
    assert load(app, proposal_id)["unsaved"] == {}
    assert load(app, proposal_id)["lead_employees"] == 12


def test_a_stale_page_does_not_overwrite_a_colleagues_save(app, client, setup):
    web = Web(client)
    web.login("anna@company.lu")
    url = start_draft(web, setup["call_id"])
    proposal_id = int(url.rsplit("/", 1)[1])
    seen = load(app, proposal_id)["version"]
    assert (
        web.post(f"{url}/sections/lead", {"version": seen, "lead_name": "First save"}).status_code
        == 302
    )
    stale = web.post(
        f"{url}/sections/lead", {"version": seen, "lead_name": "Second, from an old page"}
    )
    assert stale.status_code == 409
    assert "changed after you opened the page" in text(stale)
    assert 'value="Second, from an old page"' in text(stale)  # what was typed is still on the page
    assert load(app, proposal_id)["lead_name"] == "First save"


def test_partner_rows_are_checked_and_kept_whole(app, client, setup):
    web = Web(client)
    web.login("anna@company.lu")
    url = start_draft(web, setup["call_id"])
    proposal_id = int(url.rsplit("/", 1)[1])
    response = web.post(
        f"{url}/sections/partners",
        {
            "version": load(app, proposal_id)["version"],
            "partners-0-name": "Dakar Agri SARL",
            "partners-0-country": "",
            "partners-0-kind": "company",
            "partners-0-is_local": "local",
        },
    )
    assert response.status_code == 422
    assert "Choose the partner's country." in errors_in(response)
    ok = web.post(
        f"{url}/sections/partners",
        {
            "version": load(app, proposal_id)["version"],
            "partners-0-name": "Dakar Agri SARL",
            "partners-0-country": "SN",
            "partners-0-kind": "company",
            "partners-0-is_local": "local",
            "partners-1-name": "Lyon Labs",
            "partners-1-country": "FR",
            "partners-1-kind": "research",
            "partners-1-is_local": "eu",
        },
    )
    assert ok.status_code == 302
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        assert [(p.name, p.country, p.is_local) for p in proposal.partners] == [
            ("Dakar Agri SARL", "SN", True),
            ("Lyon Labs", "FR", False),
        ]
        assert proposal.partner_country == "SN"


def test_local_partners_are_chosen_among_the_calls_partner_countries(app, client, setup):
    with app.app_context():
        db.session.get(f.Call, setup["call_id"]).partner_countries = ["SN", "VN"]
        db.session.commit()
    web = Web(client)
    web.login("anna@company.lu")
    url = start_draft(web, setup["call_id"])
    proposal_id = int(url.rsplit("/", 1)[1])
    page = text(web.get(f"{url}/sections/partners"))
    picker = page[page.index('id="partners-0-country"') :]
    picker = picker[: picker.index("</select>")]
    eligible = picker.index('<optgroup label="Eligible partner countries">')
    others = picker.index('<optgroup label="Other countries">')
    assert eligible < picker.index('value="SN"') < picker.index('value="VN"') < others
    assert others < picker.index('value="FR"')
    refused = web.post(
        f"{url}/sections/partners",
        {
            "version": load(app, proposal_id)["version"],
            "partners-0-name": "Nairobi Solar Ltd",
            "partners-0-country": "KE",
            "partners-0-kind": "company",
            "partners-0-is_local": "local",
        },
    )
    assert refused.status_code == 422
    assert errors_in(refused) == [
        "Kenya is not one of this call's eligible partner countries; a local partner must be "
        "based in one of them."
    ]
    assert 'value="Nairobi Solar Ltd"' in text(refused)  # what was typed stays on the page
    with app.app_context():
        assert db.session.get(Proposal, proposal_id).partners == []
    project = text(web.get(f"{url}/sections/project"))
    targets = project[project.index('id="target_countries"') :]
    targets = targets[: targets.index("</select>")]
    assert targets.index('value="SN"') < targets.index('<optgroup label="Other countries">')


@pytest.mark.parametrize(
    "path", ["", "/sections/lead", "/documents", "/submit", "/receipt", "/respond"]
)
def test_another_organisations_proposal_is_not_found(app, client, setup, path):
    with app.app_context():
        anna = db.session.get(f.User, setup["anna_id"])
        proposal = f.draft(db.session.get(f.Call, setup["call_id"]), anna)
        db.session.commit()
        proposal_id = proposal.id
    web = Web(client)
    web.login("bob@other.lu")
    assert web.get(f"/proposals/{proposal_id}{path}").status_code == 404
    assert (
        web.post(f"/proposals/{proposal_id}/sections/lead", {"lead_name": "Hijack"}).status_code
        == 404
    )
    assert web.post(f"/proposals/{proposal_id}/withdraw", {"reason": "x"}).status_code == 404
    assert load(app, proposal_id)["lead_name"] == "Company S.A."


def test_staff_do_not_see_drafts_but_applicant_pages_are_for_applicants(app, client, setup):
    with app.app_context():
        from tracker.auth.models import User

        proposal = f.draft(
            db.session.get(f.Call, setup["call_id"]), db.session.get(User, setup["anna_id"])
        )
        db.session.commit()
        proposal_id = proposal.id
    web = Web(client)
    web.login("reviewer@agency.lu")
    assert web.get(f"/proposals/{proposal_id}").status_code == 403
    assert web.post(f"/calls/{setup['call_id']}/proposals").status_code == 403


def test_missing_csrf_token_is_refused_and_nothing_changes(app, client, setup):
    web = Web(client)
    web.login("anna@company.lu")
    url = start_draft(web, setup["call_id"])
    proposal_id = int(url.rsplit("/", 1)[1])
    response = web.post(f"{url}/sections/lead", {"lead_name": "No token"}, csrf=False)
    assert response.status_code == 400
    assert "security token" in text(response)
    assert load(app, proposal_id)["lead_name"] == "Company S.A."


def fill_all(app, proposal_id, anna_id):
    with app.app_context():
        from tracker.auth.models import User

        proposal = db.session.get(Proposal, proposal_id)
        f.fill(proposal, db.session.get(User, anna_id))
        db.session.commit()


def test_incomplete_proposal_cannot_be_submitted(app, client, setup):
    web = Web(client)
    web.login("anna@company.lu")
    url = start_draft(web, setup["call_id"])
    proposal_id = int(url.rsplit("/", 1)[1])
    page = web.get(f"{url}/submit")
    assert "Not ready yet" in text(page)
    assert "Lead applicant: Registration number is required." in text(page)
    response = web.post(f"{url}/submit", {"version": load(app, proposal_id)["version"]})
    assert response.status_code == 302
    state = load(app, proposal_id)
    assert state["status"] == "draft"
    assert state["reference"] is None
    assert len(state["history"]) == 1


def test_complete_proposal_is_submitted_with_a_reference_and_a_receipt(app, client, setup):
    web = Web(client)
    web.login("anna@company.lu")
    url = start_draft(web, setup["call_id"])
    proposal_id = int(url.rsplit("/", 1)[1])
    fill_all(app, proposal_id, setup["anna_id"])
    response = web.post(f"{url}/submit", {"version": load(app, proposal_id)["version"]})
    assert response.status_code == 302 and response.headers["Location"].endswith("/receipt")
    state = load(app, proposal_id)
    year = utcnow().astimezone(LUXEMBOURG).year
    assert state["status"] == "submitted"
    assert state["reference"] == f"BPF-{year}-001"
    assert state["history"] == [("create", "draft"), ("submit", "submitted")]
    receipt = text(web.get(f"{url}/receipt"))
    assert f"BPF-{year}-001" in receipt
    assert re.search(r'id="receipt-checksum">[0-9a-f]{64}<', receipt)

    # The form is locked now.
    locked = web.post(
        f"{url}/sections/lead", {"version": state["version"], "lead_name": "Changed later"}
    )
    assert locked.status_code == 302
    assert load(app, proposal_id)["lead_name"] == "Company S.A."

    # A second proposal gets the next number.
    second = start_draft(web, setup["call_id"])
    second_id = int(second.rsplit("/", 1)[1])
    fill_all(app, second_id, setup["anna_id"])
    web.post(f"{second}/submit", {"version": load(app, second_id)["version"]})
    assert load(app, second_id)["reference"] == f"BPF-{year}-002"


def test_submitting_after_the_deadline_is_refused(app, client, setup):
    web = Web(client)
    web.login("anna@company.lu")
    url = start_draft(web, setup["call_id"])
    proposal_id = int(url.rsplit("/", 1)[1])
    fill_all(app, proposal_id, setup["anna_id"])
    with app.app_context():
        call = db.session.get(f.Call, setup["call_id"])
        call.closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    page = web.get(f"{url}/submit")
    assert "The call closed" in text(page)
    web.post(f"{url}/submit", {"version": load(app, proposal_id)["version"]})
    assert load(app, proposal_id)["status"] == "draft"


def test_amount_over_the_ceiling_blocks_submission(app, client, setup):
    web = Web(client)
    web.login("anna@company.lu")
    url = start_draft(web, setup["call_id"])
    proposal_id = int(url.rsplit("/", 1)[1])
    fill_all(app, proposal_id, setup["anna_id"])
    web.post(
        f"{url}/sections/budget",
        {
            "version": load(app, proposal_id)["version"],
            "total_cost_eur": "600000",
            "requested_eur": "250000",
            "own_contribution_eur": "350000",
        },
    )
    page = text(web.get(f"{url}/submit"))
    assert "Requested co-financing at most" in page
    web.post(f"{url}/submit", {"version": load(app, proposal_id)["version"]})
    assert load(app, proposal_id)["status"] == "draft"
    # The budget page says so at the amount, and the field's description points to it.
    budget = text(web.get(f"{url}/sections/budget"))
    field = re.search(r'<input[^>]*id="requested_eur"[^>]*>', budget).group(0)
    assert 'aria-describedby="requested_eur-rule"' in field
    rule = re.search(r'id="requested_eur-rule"[^>]*>(.*?)</div>\s*</div>', budget, re.S).group(1)
    rule = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", rule)).strip())
    assert (
        rule
        == "Not within the call's rules: Requested co-financing at most €200,000.00 (€250,000.00)."
    )
    assert 'id="total_cost_eur-rule"' not in budget  # the budget itself adds up


def test_withdrawal_needs_a_reason(app, client, setup):
    web = Web(client)
    web.login("anna@company.lu")
    url = start_draft(web, setup["call_id"])
    proposal_id = int(url.rsplit("/", 1)[1])
    fill_all(app, proposal_id, setup["anna_id"])
    web.post(f"{url}/submit", {"version": load(app, proposal_id)["version"]})
    web.post(f"{url}/withdraw", {"version": load(app, proposal_id)["version"], "reason": ""})
    assert load(app, proposal_id)["status"] == "submitted"
    web.post(
        f"{url}/withdraw", {"version": load(app, proposal_id)["version"], "reason": "Partner left."}
    )
    state = load(app, proposal_id)
    assert state["status"] == "withdrawn"
    assert state["history"][-1] == ("withdraw", "withdrawn")
    assert "Partner left." in text(web.get(url))


def test_dashboard_lists_the_company_proposals_with_a_countdown(app, client, setup):
    web = Web(client)
    web.login("anna@company.lu")
    start_draft(web, setup["call_id"])
    page = text(web.get("/"))
    assert "Draft #" in page
    assert "closes in 29 days" in page or "closes in 30 days" in page
    other = Web(client.application.test_client())
    other.login("bob@other.lu")
    assert "Draft #" not in text(other.get("/"))


def test_two_stage_draft_asks_only_for_the_concept_note(app, client):
    with app.app_context():
        call = f.call(two_stage=True)
        f.clause()
        anna = f.applicant()
        db.session.commit()
        call_id, anna_id = call.id, anna.id
    web = Web(client)
    web.login("anna@company.lu")
    url = start_draft(web, call_id)
    proposal_id = int(url.rsplit("/", 1)[1])
    assert web.get(f"{url}/sections/hrdd").status_code == 302  # opens after pre-selection
    project_page = text(web.get(f"{url}/sections/project"))
    assert 'name="problem"' not in project_page
    # The concept note's last section leads on like the others: to the submission's review.
    budget = text(web.get(f"{url}/sections/budget"))
    assert "Save and continue" not in budget and "Save and review the submission" in budget
    onward = web.post(
        f"{url}/sections/budget",
        {"version": load(app, proposal_id)["version"], "total_cost_eur": "100000", "continue": "1"},
    )
    assert onward.status_code == 302 and onward.headers["Location"].endswith(f"{url}/submit")
    with app.app_context():
        from tracker.auth.models import User

        proposal = db.session.get(Proposal, proposal_id)
        f.fill(
            proposal,
            db.session.get(User, anna_id),
            sections=("lead", "partners", "project", "budget"),
        )
        db.session.commit()
    web.post(f"{url}/submit", {"version": load(app, proposal_id)["version"]})
    assert load(app, proposal_id)["status"] == "submitted"
