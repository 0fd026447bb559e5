"""The project pages: who sees what, the forms, the exports and the command line."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests import factories as f
from tests.web import Web, text
from tracker.extensions import db
from tracker.projects import operations as ops
from tracker.projects.models import ReportStatus


@pytest.fixture
def setup(app):
    with app.app_context():
        people = f.team()
        people["evaluator"] = f.staff("evaluator")
        proposal = f.signed_project(people)
        db.session.commit()
        report = f.report_of(proposal, "mid_term")
        ids = {
            "proposal": proposal.id,
            "report": report.id,
            "tranche1": ops.load_project(proposal).contract.instalments[0].id,
            "condition": ops.load_project(proposal).conditions[0].id,
        }
    return ids


def signed_in(app, email):
    web = Web(app.test_client())
    web.login(email)
    return web


def test_each_role_sees_only_what_it_may(app, setup):
    pid, rid = setup["proposal"], setup["report"]
    staff_pages = [f"/projects/{pid}", f"/projects/{pid}/reports/{rid}"]
    company_pages = [f"/projects/{pid}/company", f"/projects/{pid}/company/reports/{rid}"]
    for email in ("reviewer@agency.lu", "hrdd@agency.lu", "admin@agency.lu"):
        web = signed_in(app, email)
        for page in staff_pages:
            assert web.get(page).status_code == 200, (email, page)
        for page in company_pages:
            assert web.get(page).status_code == 404, (email, page)
    owner = signed_in(app, "anna@company.lu")
    for page in company_pages:
        assert owner.get(page).status_code == 200, page
    for page in staff_pages:
        assert owner.get(page).status_code == 403, page
    outsider = signed_in(app, "eve@other.lu")
    for page in company_pages:
        assert outsider.get(page).status_code == 404, page
    evaluator = signed_in(app, "evaluator@agency.lu")
    for page in [*staff_pages, "/projects/", "/projects/grievances", "/projects/payments"]:
        assert evaluator.get(page).status_code == 403, page
    anonymous = Web(app.test_client())
    assert anonymous.get(staff_pages[0]).status_code == 302


def test_the_company_never_sees_the_internal_note_of_a_returned_report(app, setup):
    pid, rid = setup["proposal"], setup["report"]
    with app.app_context():
        import sqlalchemy as sa

        from tracker.auth.models import User
        from tracker.proposals.models import Proposal

        proposal = db.session.get(Proposal, pid)
        reviewer = db.session.scalar(sa.select(User).where(User.email == "reviewer@agency.lu"))
        f.submit_report(proposal, proposal.created_by)
        report = f.report_of(proposal, "mid_term")
        ops.decide_report(
            report,
            proposal,
            reviewer,
            ReportStatus.returned,
            "Add the payroll records.",
            "The owner seems evasive.",
        )
        db.session.commit()
    owner = signed_in(app, "anna@company.lu")
    page = text(owner.get(f"/projects/{pid}/company/reports/{rid}"))
    assert "Add the payroll records." in page
    assert "evasive" not in page
    version = text(owner.get(f"/projects/{pid}/company/reports/{rid}/versions/1"))
    assert "Add the payroll records." in version and "evasive" not in version
    staff_page = text(signed_in(app, "reviewer@agency.lu").get(f"/projects/{pid}/reports/{rid}"))
    assert "evasive" in staff_page


def test_the_company_saves_and_submits_a_report_through_the_form(app, setup):
    pid, rid = setup["proposal"], setup["report"]
    owner = signed_in(app, "anna@company.lu")
    page = text(owner.get(f"/projects/{pid}/company/reports/{rid}"))
    version = page.split('name="version" type="hidden" value="')[1].split('"')[0]
    base = {"version": version, "narrative": "Line installed.", "jobs": "7", "expenses": "1.234,50"}
    refused = owner.post(f"/projects/{pid}/company/reports/{rid}", {**base, "action": "submit"})
    assert refused.status_code == 422
    body = text(refused)
    assert "Give the evidence for HRDD condition 1." in body
    assert "Line installed." in body  # nothing typed is lost
    saved = owner.post(
        f"/projects/{pid}/company/reports/{rid}", {**base, "expenses": "1234.50", "action": "save"}
    )
    assert saved.status_code == 302
    page = text(owner.get(f"/projects/{pid}/company/reports/{rid}"))
    version = page.split('name="version" type="hidden" value="')[1].split('"')[0]
    done = owner.post(
        f"/projects/{pid}/company/reports/{rid}",
        {
            **base,
            "expenses": "1234.50",
            "version": version,
            "evidence_1": "Action plan signed.",
            "action": "submit",
        },
    )
    assert done.status_code == 302 and "/receipt/1" in done.headers["Location"]
    receipt = text(owner.get(done.headers["Location"]))
    assert "version 1" in receipt
    stale = owner.post(
        f"/projects/{pid}/company/reports/{rid}", {**base, "version": version, "action": "save"}
    )
    assert stale.status_code == 403  # submitted: no longer editable


def test_staff_record_a_payment_and_bad_amounts_change_nothing(app, setup):
    pid, tid = setup["proposal"], setup["tranche1"]
    reviewer = signed_in(app, "reviewer@agency.lu")
    page = text(reviewer.get(f"/projects/{pid}"))
    version = page.split('name="version" value="')[1].split('"')[0]
    too_much = reviewer.post(
        f"/projects/{pid}/tranches/{tid}/payment",
        {
            "version": version,
            "paid_on": date.today().isoformat(),
            "amount": "9999999",
            "reference": "X",
        },
    )
    assert too_much.status_code == 422
    assert "above what remains of the grant" in text(too_much)
    garbage = reviewer.post(
        f"/projects/{pid}/tranches/{tid}/payment",
        {"version": version, "paid_on": "yesterday", "amount": "abc", "reference": "X"},
    )
    assert garbage.status_code == 422
    ok = reviewer.post(
        f"/projects/{pid}/tranches/{tid}/payment",
        {
            "version": version,
            "paid_on": date.today().isoformat(),
            "amount": "1000",
            "reference": "=HYPERLINK(1)",
        },
    )
    assert ok.status_code == 302
    export = reviewer.get("/projects/payments?format=csv")
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert rows[1][-3] == "1000.00" and rows[1][-2] == "'=HYPERLINK(1)"
    xlsx = reviewer.get(
        f"/projects/payments?format=xlsx&from={date.today().isoformat()}&to={date.today().isoformat()}"
    )
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.max_row == 2
    none_before = reviewer.get(
        f"/projects/payments?to={(date.today() - timedelta(days=1)).isoformat()}"
    )
    assert "No payment in this period." in text(none_before)
    assert reviewer.get("/projects/payments?from=not-a-date").status_code == 422


def test_the_portfolio_page_and_its_exports(app, setup):
    reviewer = signed_in(app, "reviewer@agency.lu")
    page = text(reviewer.get("/projects/"))
    assert "1 projects" in page or "1 project" in page
    data = json.loads(reviewer.get("/projects/?format=json").data)
    assert data["projects"][0]["state"] == "implementation"
    xlsx = load_workbook(io.BytesIO(reviewer.get("/projects/?format=xlsx").data)).active
    assert xlsx.max_row == 2
    filtered = json.loads(reviewer.get("/projects/?format=json&state=closed").data)
    assert filtered["projects"] == []
    assert reviewer.get("/projects/?as_of=garbage").status_code == 200


def test_the_command_line_writes_the_portfolio(app, setup, runner, tmp_path):
    output = tmp_path / "portfolio.json"
    result = runner.invoke(
        args=[
            "report",
            "portfolio",
            "--programme",
            "BPF",
            "--format",
            "json",
            "--output",
            str(output),
        ]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(output.read_text())
    assert data["programme"] == "BPF" and len(data["projects"]) == 1
    assert set(data["totals"]) == {"granted_eur", "paid_eur", "remaining_eur"}
    csv_out = runner.invoke(
        args=["report", "portfolio", "--programme", "BPF", "--format", "csv", "--output", "-"]
    )
    assert csv_out.exit_code == 0 and "Reference" in csv_out.output
    bad = runner.invoke(
        args=["report", "portfolio", "--programme", "NOPE", "--format", "json", "--output", "-"]
    )
    assert bad.exit_code == 1
    bad_date = runner.invoke(
        args=[
            "report",
            "portfolio",
            "--programme",
            "BPF",
            "--as-of",
            "31/12/2026",
            "--format",
            "json",
            "--output",
            "-",
        ]
    )
    assert bad_date.exit_code == 1 and "YYYY-MM-DD" in bad_date.output


def test_a_refused_project_step_comes_back_to_the_project_page_with_why(app, setup):
    pid = setup["proposal"]
    reviewer = signed_in(app, "reviewer@agency.lu")
    page = text(reviewer.get(f"/projects/{pid}"))
    assert "The final report must be approved first." in page  # why closing is not offered
    version = page.split('name="version" value="')[1].split('"')[0]
    refused = reviewer.post(
        f"/review/proposals/{pid}/transitions/suspend",
        {"version": version, "return_to": "project", "comment": ""},
    )
    assert refused.status_code == 422
    body = text(refused)
    assert "Payment schedule" in body and "is required" in body
    done = reviewer.post(
        f"/review/proposals/{pid}/transitions/suspend",
        {"version": version, "return_to": "project", "comment": "Audit."},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/projects/{pid}")
    assert "Blocked" in text(reviewer.get(f"/projects/{pid}"))


def test_a_report_typed_after_the_session_expired_comes_back_after_signing_in(app, setup):
    from tests.web import expire_sessions

    pid, rid = setup["proposal"], setup["report"]
    owner = signed_in(app, "anna@company.lu")
    page = text(owner.get(f"/projects/{pid}/company/reports/{rid}"))
    version = page.split('name="version" type="hidden" value="')[1].split('"')[0]
    token = owner.token()
    expire_sessions(app, "anna@company.lu")
    lost = owner.client.post(
        f"/projects/{pid}/company/reports/{rid}",
        data={
            "csrf_token": token,
            "version": version,
            "narrative": "Three months of work, typed slowly.",
            "action": "save",
        },
    )
    assert lost.status_code == 302 and "/login" in lost.headers["Location"]
    owner.login("anna@company.lu")
    back = text(owner.get(f"/projects/{pid}/company/reports/{rid}"))
    assert "Three months of work, typed slowly." in back
    assert "It is not saved yet." in back


def test_documents_of_a_report_are_added_checked_removed_and_kept_once_sent(app, setup):
    pid, rid = setup["proposal"], setup["report"]
    owner = signed_in(app, "anna@company.lu")
    url = f"/projects/{pid}/company/reports/{rid}"

    def version():
        return text(owner.get(url)).split('name="version" type="hidden" value="')[1].split('"')[0]

    def upload(name, data):
        return owner.post(
            url,
            {
                "version": version(),
                "narrative": "Line installed.",
                "action": "upload",
                "document": (io.BytesIO(data), name),
            },
            content_type="multipart/form-data",
        )

    refused = upload("invoice.pdf", b"MZ\x90\x00 not a pdf at all")
    assert refused.status_code == 422
    assert upload("invoice.pdf", f.PDF_BYTES).status_code == 302
    with app.app_context():
        from tracker.projects.models import ReportDocument

        [document] = db.session.query(ReportDocument).all()
        first_id = document.id
    staff = signed_in(app, "reviewer@agency.lu")
    download = staff.get(f"{url.replace('/company', '')}/documents/{first_id}")
    assert download.status_code == 200 and download.data == f.PDF_BYTES
    download.close()
    assert (
        signed_in(app, "eve@other.lu")
        .get(f"{url.replace('/company', '')}/documents/{first_id}")
        .status_code
        == 404
    )
    removed = owner.post(f"{url}/documents/{first_id}/remove")
    assert removed.status_code == 302
    assert "invoice.pdf" not in text(owner.get(url))
    assert upload("audit.pdf", f.PDF_BYTES).status_code == 302
    submitted = owner.post(
        url,
        {
            "version": version(),
            "narrative": "Line installed.",
            "expenses": "1000",
            "evidence_1": "Plan adopted.",
            "action": "submit",
        },
    )
    assert submitted.status_code == 302
    with app.app_context():
        [kept] = db.session.query(ReportDocument).all()
        kept_id = kept.id
    # Sent with the submitted version: it stays, even once the report is returned.
    assert owner.post(f"{url}/documents/{kept_id}/remove").status_code == 302
    with app.app_context():
        assert db.session.get(ReportDocument, kept_id) is not None


def test_my_work_lists_reports_sent_and_conditions_past_their_date(app, setup):
    """The reviewer finds the company's report and the overdue HRDD condition on the first
    screen; the HRDD officer finds the condition but not the report; each leaves once dealt
    with."""
    import re

    from tracker.auth.models import User
    from tracker.core.time import local_today
    from tracker.projects.models import ProjectCondition
    from tracker.proposals.models import Proposal

    def section(page, key):
        found = re.search(rf'<section[^>]*id="{key}".*?</section>', page, re.S)
        return found.group(0) if found else ""

    pid, rid = setup["proposal"], setup["report"]
    reviewer = signed_in(app, "reviewer@agency.lu")
    page = text(reviewer.get("/review/my-work"))
    assert not section(page, "reports") and not section(page, "conditions")
    with app.app_context():
        proposal = db.session.get(Proposal, pid)
        owner = db.session.scalar(sa.select(User).where(User.email == "anna@company.lu"))
        f.submit_report(proposal, owner)
        condition = db.session.get(ProjectCondition, setup["condition"])
        condition.due_on = local_today() - timedelta(days=3)
        db.session.commit()
        reference, text_of_condition = proposal.reference, condition.text
    page = text(reviewer.get("/review/my-work"))
    reports = section(page, "reports")
    assert f'href="/projects/{pid}/reports/{rid}">{reference}</a>' in reports
    assert '<span class="badge text-bg-primary">1</span>' in reports
    conditions = section(page, "conditions")
    assert f'href="/projects/{pid}#conditions">{reference}</a>' in conditions
    assert "Condition 1: " + text_of_condition[:40] in conditions
    hrdd = text(signed_in(app, "hrdd@agency.lu").get("/review/my-work"))
    assert section(hrdd, "conditions") and not section(hrdd, "reports")
    committee = text(signed_in(app, "committee@agency.lu").get("/review/my-work"))
    assert not section(committee, "conditions") and not section(committee, "reports")
    with app.app_context():
        proposal = db.session.get(Proposal, pid)
        reviewer_user = db.session.scalar(sa.select(User).where(User.email == "reviewer@agency.lu"))
        f.approve_report(proposal, reviewer_user)
        db.session.commit()
    page = text(reviewer.get("/review/my-work"))
    assert not section(page, "reports") and section(page, "conditions")
