"""Every page about a proposal x every kind of person x own and other organisation and
programme: nobody sees what is not theirs (0 leaks), and everybody reaches what is.

The expected visibility is written out here on its own, not asked of the code under test.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.web import Web, text
from tracker.auth.models import Role, UserRole
from tracker.extensions import db
from tracker.proposals.models import Attachment
from tracker.review import operations as review_ops

# (programme, state) of each proposal; the titles make leaks easy to spot in any page.
PROPOSALS = [
    ("BPF", "draft"),
    ("BPF", "screening"),
    ("BPF", "evaluation"),
    ("BPF", "selection"),
    ("SGBC", "screening"),
    ("SGBC", "evaluation"),
    ("SGBC", "selection"),
    ("BPF", "implementation"),
    ("SGBC", "implementation"),
]
PEOPLE = [
    "anna",  # applicant of the company that owns every proposal
    "eve",  # applicant of another company
    "admin",
    "reviewer",  # reviewer for the whole tracker
    "hrdd_bpf",  # HRDD officer for BPF only
    "committee_sgbc",  # committee member for SGBC only
    "reporting_bpf",  # reporting for BPF only
    "evaluator",  # partner evaluator, assigned the BPF proposal in evaluation only
]
EMAILS = {
    "anna": "anna@company.lu",
    "eve": "eve@other.lu",
    "admin": "admin@agency.lu",
    "reviewer": "reviewer@agency.lu",
    "hrdd_bpf": "hrdd-bpf@agency.lu",
    "committee_sgbc": "committee-sgbc@agency.lu",
    "reporting_bpf": "reporting-bpf@agency.lu",
    "evaluator": "evaluator@partner.lu",
}


def expected(person: str, programme: str, state: str) -> bool:
    """Whether the person may see the proposal at all (on the applicant's or staff pages)."""
    if person == "anna":
        return True
    if person == "eve" or state == "draft":
        return False
    return {
        "admin": True,
        "reviewer": True,
        "hrdd_bpf": programme == "BPF",
        "committee_sgbc": programme == "SGBC" and state in ("selection", "implementation"),
        "reporting_bpf": programme == "BPF",
        "evaluator": (programme, state) == ("BPF", "evaluation"),
    }[person]


def _scoped(user, role: Role, code: str) -> None:
    user.role_rows = [UserRole(role=role, programme_id=f.programme(code).id)]


@pytest.fixture
def world(app):
    with app.app_context():
        people = f.team()
        anna = f.applicant()
        sgbc = f.programme("SGBC")
        hrdd_bpf = f.staff("hrdd", EMAILS["hrdd_bpf"])
        _scoped(hrdd_bpf, Role.hrdd, "BPF")
        committee_sgbc = f.staff("committee", EMAILS["committee_sgbc"])
        _scoped(committee_sgbc, Role.committee, "SGBC")
        reporting_bpf = f.staff("reporting", EMAILS["reporting_bpf"])
        _scoped(reporting_bpf, Role.reporting, "BPF")
        evaluator = f.user(EMAILS["evaluator"], Role.evaluator)
        _scoped(evaluator, Role.evaluator, "BPF")
        calls = {"BPF": f.call(), "SGBC": f.call(code=sgbc.code)}
        made = []
        for programme, state in PROPOSALS:
            proposal = f.bring_to(state, calls[programme], anna, people)
            proposal.title = f"Matrix {programme} {state} project"
            made.append((programme, state, proposal))
            if (programme, state) == ("BPF", "evaluation"):
                review_ops.assign_reviewer(proposal, evaluator, people["reviewer"])
        db.session.commit()
        from tracker.projects.models import ProjectReport

        reports = {
            p.id: db.session.scalar(
                sa.select(ProjectReport.id).where(ProjectReport.proposal_id == p.id).limit(1)
            )
            for _programme, _state, p in made
        }
        attachment = {
            p.id: db.session.scalar(
                sa.select(Attachment.id).where(Attachment.proposal_id == p.id).limit(1)
            )
            for _programme, _state, p in made
        }
        return {
            "proposals": [(programme, state, p.id, p.title) for programme, state, p in made],
            "attachments": attachment,
            "reports": reports,
            "calls": {code: call.id for code, call in calls.items()},
        }


def _pages(app, proposal_id: int, attachment_id, report_id=None) -> list[str]:
    """Every GET page whose address names a proposal, filled in for this one."""
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or "proposal_id" not in rule.arguments:
            continue
        values = {"proposal_id": proposal_id, "number": 1, "section": "project"}
        if "attachment_id" in rule.arguments:
            if attachment_id is None:
                continue
            values["attachment_id"] = attachment_id
        if "report_id" in rule.arguments:
            if report_id is None:
                continue
            values["report_id"] = report_id
        if "document_id" in rule.arguments:
            continue  # a report's documents: covered by the project tests
        with app.test_request_context():
            from flask import url_for

            pages.append(url_for(rule.endpoint, **{k: values[k] for k in rule.arguments}))
    return pages


def _signed_in(app, person):
    web = Web(app.test_client())
    web.login(EMAILS[person])
    return web


def test_no_page_about_a_proposal_leaks_to_someone_it_is_hidden_from(app, world):
    leaks, reached = [], {}
    for person in PEOPLE:
        web = _signed_in(app, person)
        for programme, state, proposal_id, title in world["proposals"]:
            may = expected(person, programme, state)
            pages = _pages(
                app, proposal_id, world["attachments"][proposal_id], world["reports"][proposal_id]
            )
            for page in pages:
                response = web.get(page)
                body = response.get_data()
                response.close()
                shown = response.status_code == 200 and title.encode() in body
                if not may and (response.status_code == 200 or title.encode() in body):
                    leaks.append((person, programme, state, page, response.status_code))
                if may and shown:
                    reached[(person, programme, state)] = True
    assert leaks == [], f"{len(leaks)} leaks: {leaks[:10]}"
    missing = [
        (person, programme, state)
        for person in PEOPLE
        for programme, state, _id, _title in world["proposals"]
        if expected(person, programme, state) and (person, programme, state) not in reached
    ]
    assert missing == [], f"allowed but never shown: {missing}"


@pytest.mark.parametrize("person", PEOPLE)
def test_the_queue_and_its_exports_hold_exactly_what_the_person_may_see(app, world, person):
    web = _signed_in(app, person)
    staff = person not in {"anna", "eve"}
    for path in ("/review/proposals?per_page=100", "/review/proposals.csv"):
        response = web.get(path)
        if not staff:
            assert response.status_code == 403
            continue
        assert response.status_code == 200
        body = text(response)
        for programme, state, _id, title in world["proposals"]:
            assert (title in body) == expected(person, programme, state), (path, title)


def test_rankings_and_reports_stay_within_the_roles_programmes(app, world):
    committee = _signed_in(app, "committee_sgbc")
    assert committee.get(f"/review/calls/{world['calls']['SGBC']}/selection").status_code == 200
    assert committee.get(f"/review/calls/{world['calls']['BPF']}/selection").status_code == 404
    evaluator = _signed_in(app, "evaluator")
    assert evaluator.get(f"/review/calls/{world['calls']['BPF']}/selection").status_code == 403
    assert evaluator.get("/reports/selections").status_code == 403

    reporting = _signed_in(app, "reporting_bpf")
    page = text(reporting.get("/reports/selections"))
    assert "BPF" in page and ">SGBC<" not in page
    assert reporting.get("/reports/selections?programme=SGBC").status_code == 404
    assert reporting.get("/reports/selections.csv?programme=SGBC&year=2026").status_code == 404
    assert reporting.get("/reports/selections.csv?programme=BPF&year=2026").status_code == 200


def test_a_partner_evaluator_scores_what_is_assigned_and_sees_no_internal_record(app, world):
    [(_p, _s, proposal_id, _t)] = [
        row for row in world["proposals"] if row[:2] == ("BPF", "evaluation")
    ]
    web = _signed_in(app, "evaluator")
    page = text(web.get(f"/review/proposals/{proposal_id}"))
    assert "Declare" in page
    for internal in ("Eligibility checklist", "HRDD review", "Timeline", "Changes to"):
        assert internal not in page, internal
    assert web.get(f"/review/proposals/{proposal_id}/hrdd").status_code == 404
    web.post(f"/review/proposals/{proposal_id}/conflict", {"has_conflict": "no"})
    form = text(web.get(f"/review/proposals/{proposal_id}/score"))
    assert 'name="mark_' in form
