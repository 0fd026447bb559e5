"""The staff side through the web: access, queue filters and exports, stage panels, timelines."""

from __future__ import annotations

import contextlib
import csv
import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests import factories as f
from tests.web import Web, text
from tracker.core.countries import country_name
from tracker.extensions import db
from tracker.proposals.models import Proposal


@contextlib.contextmanager
def count_queries(app):
    counter = {"n": 0}

    def before(conn, cursor, statement, parameters, context, executemany):
        counter["n"] += 1

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def make(app, state, n=1, **call_settings):
    with app.app_context():
        from tracker.auth.models import User

        users = {u.email: u for u in db.session.scalars(sa.select(User))}
        people = {
            "reviewer": users["reviewer@agency.lu"],
            "reviewer2": users["reviewer2@agency.lu"],
            "reviewer3": users["reviewer3@agency.lu"],
            "hrdd": users["hrdd@agency.lu"],
            "committee": users["committee@agency.lu"],
            "admin": users["admin@agency.lu"],
        }
        call = f.call(**call_settings)
        ids = [f.bring_to(state, call, users["anna@company.lu"], people).id for _ in range(n)]
        db.session.commit()
        return ids


def signed_in(app, email):
    web = Web(app.test_client())
    web.login(email)
    return web


def test_staff_pages_are_for_staff_only(app, people):
    [proposal_id] = make(app, "screening")
    applicant = signed_in(app, "anna@company.lu")
    assert applicant.get("/review/proposals").status_code == 403
    assert applicant.get(f"/review/proposals/{proposal_id}").status_code == 403
    assert (
        applicant.post(f"/review/proposals/{proposal_id}/transitions/pass_screening").status_code
        == 403
    )
    assert applicant.get("/review/proposals.csv").status_code == 403
    reporting = signed_in(app, "reporting@agency.lu")
    assert reporting.get(f"/review/proposals/{proposal_id}").status_code == 200
    assert reporting.post(f"/review/proposals/{proposal_id}/screening").status_code == 403


def test_drafts_and_unknown_ids_are_not_found(app, people):
    [draft_id] = make(app, "draft")
    reviewer = signed_in(app, "reviewer@agency.lu")
    assert reviewer.get(f"/review/proposals/{draft_id}").status_code == 404
    assert reviewer.get("/review/proposals/999999").status_code == 404


def test_only_the_transitions_the_user_may_take_are_offered(app, people):
    [proposal_id] = make(app, "screening")
    reviewer_page = text(
        signed_in(app, "reviewer@agency.lu").get(f"/review/proposals/{proposal_id}")
    )
    assert 'id="action-pass_screening"' in reviewer_page
    assert 'id="action-reject_screening"' in reviewer_page
    hrdd_page = text(signed_in(app, "reporting@agency.lu").get(f"/review/proposals/{proposal_id}"))
    assert 'id="action-' not in hrdd_page
    assert "Nothing for your role at this stage." in hrdd_page
    committee = signed_in(app, "committee@agency.lu")
    assert committee.get(f"/review/proposals/{proposal_id}").status_code == 404, (
        "the committee sees a proposal from the stage where it decides"
    )


def test_a_transition_through_the_web_writes_history_and_a_stale_page_is_refused(app, people):
    [proposal_id] = make(app, "screening")
    with app.app_context():
        version = db.session.get(Proposal, proposal_id).version
    reviewer = signed_in(app, "reviewer@agency.lu")
    other = signed_in(app, "admin@agency.lu")
    response = reviewer.post(
        f"/review/proposals/{proposal_id}/transitions/request_information",
        {
            "version": version,
            "comment": "Please send the 2025 accounts.",
            "note": "Turnover looks inflated.",
        },
    )
    assert response.status_code == 302
    stale = other.post(
        f"/review/proposals/{proposal_id}/transitions/reject_screening",
        {"version": version, "comment": "Not eligible."},
        follow_redirects=True,
    )
    assert "changed after you opened the page" in text(stale)
    assert "Information requested" in text(stale)
    with app.app_context():
        assert db.session.get(Proposal, proposal_id).status == "info_requested"


def test_the_applicant_timeline_shows_public_steps_and_no_internal_notes(app, people):
    [proposal_id] = make(app, "screening")
    with app.app_context():
        version = db.session.get(Proposal, proposal_id).version
    reviewer = signed_in(app, "reviewer@agency.lu")
    reviewer.post(
        f"/review/proposals/{proposal_id}/transitions/request_information",
        {
            "version": version,
            "comment": "Please send the 2025 accounts.",
            "note": "Turnover looks inflated.",
        },
    )
    applicant = signed_in(app, "anna@company.lu")
    page = text(applicant.get(f"/proposals/{proposal_id}"))
    assert "Please send the 2025 accounts." in page
    assert "Turnover looks inflated." not in page
    assert (
        "Rui" not in page and "Reviewer" not in page.split("History", 1)[1]
    )  # staff names stay internal
    staff_page = text(reviewer.get(f"/review/proposals/{proposal_id}"))
    assert "Turnover looks inflated." in staff_page

    with app.app_context():
        version = db.session.get(Proposal, proposal_id).version
    answer = applicant.post(
        f"/proposals/{proposal_id}/respond",
        {
            "version": version,
            "reason": "Attached.",
            "files": (io.BytesIO(f.PDF_BYTES), "accounts-2025.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302
    page = text(applicant.get(f"/proposals/{proposal_id}"))
    assert "Answer sent" in page and "accounts-2025.pdf" in page
    with app.app_context():
        assert db.session.get(Proposal, proposal_id).status == "screening"


def test_queue_filters_counts_sorting_and_bad_arguments(app, people):
    make(app, "submitted", 3)
    make(app, "screening", 2, title="Second call")
    reviewer = signed_in(app, "reviewer@agency.lu")
    page = text(reviewer.get("/review/proposals"))
    assert "5 proposals match." in page
    assert re.search(r'id="count-submitted">3<', page) and re.search(
        r'id="count-screening">2<', page
    )
    filtered = text(reviewer.get("/review/proposals?status=screening"))
    assert "2 proposals match." in filtered
    assert "3 proposals match." in text(reviewer.get("/review/proposals?q=bpf-&status=submitted"))
    assert "0 proposals match." in text(reviewer.get("/review/proposals?country=BR"))
    assert "5 proposals match." in text(reviewer.get("/review/proposals?country=VN"))
    nonsense = reviewer.get(
        "/review/proposals?page=abc&call=%27;drop&sort=evil&per_page=7&reviewer=-1"
    )
    assert nonsense.status_code == 200
    assert "5 proposals match." in text(nonsense)
    sorted_page = text(reviewer.get("/review/proposals?sort=reference&dir=asc"))
    references = re.findall(r">(BPF-\d{4}-\d{3})<", sorted_page)
    assert references == sorted(references)


def test_queue_filter_by_assigned_reviewer(app, people):
    [evaluated, _other] = make(app, "evaluation", 2)
    reviewer = signed_in(app, "reviewer@agency.lu")
    with app.app_context():
        from tracker.auth.models import User

        reviewer3 = db.session.scalar(sa.select(User).where(User.email == "reviewer3@agency.lu"))
        f.review_ops.assign_reviewer(db.session.get(Proposal, evaluated), reviewer3, reviewer3)
        db.session.commit()
        reviewer3_id = reviewer3.id
    page = text(reviewer.get(f"/review/proposals?reviewer={reviewer3_id}"))
    assert "1 proposals match." in page


def test_exports_follow_the_filter_and_neutralise_formulas(app, people):
    [first, _second] = make(app, "submitted", 2)
    with app.app_context():
        proposal = db.session.get(Proposal, first)
        proposal.title = '=HYPERLINK("http://evil.example")'
        db.session.commit()
        reference = proposal.reference
    reviewer = signed_in(app, "reviewer@agency.lu")
    response = reviewer.get(f"/review/proposals.csv?q={reference}")
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(text(response))))
    assert rows[0][:3] == ["Reference", "Title", "Programme"]
    assert len(rows) == 2 and rows[1][0] == reference
    assert rows[1][1].startswith("'=")
    workbook = load_workbook(io.BytesIO(reviewer.get("/review/proposals.xlsx").data))
    sheet = workbook["Proposals"]
    assert sheet.max_row == 3
    titles = [sheet.cell(row=r, column=2).value for r in (2, 3)]
    assert any(t.startswith("'=") for t in titles)
    requested = sheet.cell(row=2, column=12)
    assert requested.value == 150000 and "€" in requested.number_format


def test_queue_query_count_is_the_same_for_5_and_50_proposals(app, people):
    counts = {}
    for size in (5, 50):
        ids = make(app, "evaluation", size, title=f"Call of {size}")
        with app.app_context():
            call_id = db.session.get(Proposal, ids[0]).call_id
        reviewer = signed_in(app, "reviewer@agency.lu")
        with count_queries(app) as counter:
            response = reviewer.get(f"/review/proposals?call={call_id}&per_page=100")
        assert text(response).count('href="/review/proposals/') == size
        counts[size] = counter["n"]
    assert counts[5] == counts[50], counts


def test_proposal_page_query_count_does_not_grow_with_its_history(app, people):
    short, long_ = make(app, "evaluation", 2)
    with app.app_context():
        from tracker.auth.models import User

        reviewer = db.session.scalar(sa.select(User).where(User.email == "reviewer@agency.lu"))
        owner = db.session.scalar(sa.select(User).where(User.email == "anna@company.lu"))
        proposal = db.session.get(Proposal, long_)
        for _ in range(6):  # twelve more history rows, with documents sent along
            f.take(proposal, "request_information", reviewer)
            change = f.take(proposal, "respond", owner)
            f.proposal_ops.add_attachment(
                proposal,
                f.AttachmentKind.response,
                io.BytesIO(f.PDF_BYTES),
                "a.pdf",
                owner,
                status_change_id=change.id,
            )
        db.session.commit()
    web = signed_in(app, "reviewer@agency.lu")
    web.get("/review/my-work")  # the page's frame (the unread count) is kept after this one
    counts = {}
    for name, proposal_id in (("short", short), ("long", long_)):
        with count_queries(app) as counter:
            assert web.get(f"/review/proposals/{proposal_id}").status_code == 200
        counts[name] = counter["n"]
    assert counts["short"] == counts["long"], counts


@pytest.mark.parametrize(
    ("state", "key", "email", "two_stage"),
    [
        ("screening", "reject_screening", "reviewer@agency.lu", False),
        ("preselection", "reject_preselection", "committee@agency.lu", True),
        ("hrdd_review", "reject_hrdd", "hrdd@agency.lu", False),
        ("evaluation", "reject_evaluation", "reviewer@agency.lu", False),
        ("selection", "reject_selection", "committee@agency.lu", False),
        ("reserve", "reject_selection", "committee@agency.lu", False),
        ("selected", "cancel", "reviewer@agency.lu", False),
        ("contracting", "cancel", "admin@agency.lu", True),
    ],
)
def test_rejection_at_each_stage_reaches_the_applicant(app, people, state, key, email, two_stage):
    [proposal_id] = make(app, state, two_stage=two_stage)
    with app.app_context():
        version = db.session.get(Proposal, proposal_id).version
    staff = signed_in(app, email)
    missing_reason = staff.post(
        f"/review/proposals/{proposal_id}/transitions/{key}",
        {"version": version},
        follow_redirects=True,
    )
    assert "is required" in text(missing_reason)
    reason = f"Not retained at {state}: the market analysis is missing."
    staff.post(
        f"/review/proposals/{proposal_id}/transitions/{key}",
        {"version": version, "comment": reason},
    )
    with app.app_context():
        assert db.session.get(Proposal, proposal_id).status == "rejected"
    applicant_page = text(signed_in(app, "anna@company.lu").get(f"/proposals/{proposal_id}"))
    assert reason in applicant_page
    assert "Not retained" in applicant_page
    notifications = text(signed_in(app, "anna@company.lu").get("/notifications/"))
    assert reason in notifications


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("lots", "Use digits only."),
        ("1e27", "Use digits only."),
        ("NaN", "Use digits only."),
        ("", "Enter the amount granted."),
        ("250000", "At most"),
    ],
)
def test_a_bad_granted_amount_is_explained_and_nothing_changes(app, people, amount, message):
    [proposal_id] = make(app, "selection")
    with app.app_context():
        version = db.session.get(Proposal, proposal_id).version
    committee = signed_in(app, "committee@agency.lu")
    page = committee.post(
        f"/review/proposals/{proposal_id}/transitions/select",
        {"version": version, "granted_eur": amount},
    )
    assert page.status_code == 422
    assert message in text(page)
    # The amount typed is shown again at its field, with the error beside it.
    assert 'name="granted_eur" inputmode="decimal" autocomplete="off" aria-required="true"' in text(
        page
    )
    assert f'value="{amount}"' in text(page)
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        assert (proposal.status, proposal.granted_eur, proposal.version) == (
            "selection",
            None,
            version,
        )


def test_selection_ranking_queries_do_not_grow_with_the_call(app, people):
    counts = {}
    for size in (2, 8):
        ids = make(app, "selection", size, title=f"Selection call of {size}")
        with app.app_context():
            call_id = db.session.get(Proposal, ids[0]).call_id
        committee = signed_in(app, "committee@agency.lu")
        with count_queries(app) as counter:
            page = text(committee.get(f"/review/calls/{call_id}/selection"))
        assert page.count('id="action-select"') == size
        counts[size] = counter["n"]
    assert counts[2] == counts[8], counts


def test_a_conflicted_committee_member_sees_why_they_cannot_decide(app, people):
    [proposal_id] = make(app, "selection")
    with app.app_context():
        from tracker.auth.models import User

        member = db.session.scalar(sa.select(User).where(User.email == "committee@agency.lu"))
        proposal = db.session.get(Proposal, proposal_id)
        f.review_ops.declare_conflict(proposal, member, True, "Former employer.")
        db.session.commit()
        call_id = proposal.call_id
    page = text(signed_in(app, "committee@agency.lu").get(f"/review/calls/{call_id}/selection"))
    assert "You declared a conflict of interest on this proposal." in page
    assert 'action="/review/proposals/' not in page


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("biochar", {"Biochar kilns"}),  # a word of a title, through the index
        ("BIOCHAR", {"Biochar kilns"}),  # case folded
        ("kilns kiln", set()),  # never across the title and the company
        ("Grünwerk", {"Solar dryers"}),  # the company
        ("mango", {"Solar dryers"}),  # the summary
        ("dr", {"Solar dryers"}),  # two letters: no trigram, searched all the same
        ('50% "off"', set()),  # LIKE's and FTS's special characters are plain text
    ],
)
def test_text_search_finds_words_of_the_reference_title_company_and_summary(app, typed, found):
    with app.app_context():
        owner = f.applicant()
        call = f.call()
        for title, company, summary in (
            ("Biochar kilns", "Kiln S.A.", "Soil carbon."),
            ("Solar dryers", "Grünwerk GmbH", "Drying mango and cassava."),
        ):
            proposal = f.submitted(call, owner)
            proposal.title, proposal.lead_name, proposal.summary = title, company, summary
        f.staff("reviewer")
        db.session.commit()
        # An edit is searchable at once (the index follows the row).
        proposal.title = "Solar dryers"
        db.session.commit()
    web = Web(app.test_client())
    web.login("reviewer@agency.lu")
    page = text(web.get("/review/proposals", query_string={"q": typed}))
    shown = {t for t in ("Biochar kilns", "Solar dryers") if t in page}
    assert shown == found


def test_the_status_counts_follow_every_change_of_the_data(ctx):
    """The counts are kept between requests; a status change or an edit must show at once."""
    from tracker.core.time import utcnow
    from tracker.review.queue import QueueFilter, status_counts
    from tracker.workflow.operations import perform_transition

    people = f.team()
    owner = f.applicant()
    call = f.call()
    first, second = f.submitted(call, owner), f.submitted(call, owner)
    db.session.commit()
    everything = QueueFilter.from_args({}, viewer=people["admin"])
    assert status_counts(everything) == {"submitted": 2}
    assert status_counts(everything) == {"submitted": 2}  # kept
    perform_transition(first, "start_screening", people["reviewer"])
    db.session.commit()
    assert status_counts(everything) == {"submitted": 1, "screening": 1}
    country = second.partner_country
    by_country = QueueFilter.from_args({"country": country}, viewer=people["admin"])
    assert sum(status_counts(by_country).values()) == 2
    second.partner_country, second.updated_at = "ZW" if country != "ZW" else "ZM", utcnow()
    db.session.commit()
    assert sum(status_counts(by_country).values()) == 1
    # Someone who sees less gets their own counts.
    assert status_counts(QueueFilter.from_args({}, viewer=people["outsider"])) == {}


def test_the_csv_written_by_the_database_is_the_one_python_writes(app, people):
    """Labels, country names, amounts, mean scores and Luxembourg times: every cell as the
    Python writer gives it (the export of a call with questions is written by Python)."""
    make(app, "submitted", 2)
    make(app, "selection", 2)
    make(app, "contracted", 1)
    reviewer = signed_in(app, "reviewer@agency.lu")
    streamed = text(reviewer.get("/review/proposals.csv"))
    with app.test_request_context():
        from tracker.auth.models import User
        from tracker.core.spreadsheets import csv_lines
        from tracker.review import exports
        from tracker.review.queue import QueueFilter, iter_export

        user = db.session.scalar(sa.select(User).where(User.email == "reviewer@agency.lu"))
        queue = QueueFilter.from_args({}, viewer=user)
        written = "".join(csv_lines(exports.COLUMNS, iter_export(queue), line_end="\n"))
    rows = list(csv.reader(io.StringIO(streamed)))
    assert len(rows) == 6
    scored = [row for row in rows[1:] if row[13]]
    assert scored and all(re.fullmatch(r"\d+\.\d\d", row[13]) for row in scored)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row[14]) for row in rows[1:])
    assert streamed == written


def test_the_checklist_comes_first_and_only_a_reviewer_may_fill_it(app, people):
    [proposal_id] = make(app, "screening")
    reviewer = text(signed_in(app, "reviewer@agency.lu").get(f"/review/proposals/{proposal_id}"))
    assert reviewer.index('id="screening"') < reviewer.index('id="actions-title"')
    assert f'action="/review/proposals/{proposal_id}/screening"' in reviewer
    # A computed item left to the data says what the data gives.
    assert "As computed: met" in reviewer or "As computed: not met" in reviewer
    reporting = text(signed_in(app, "reporting@agency.lu").get(f"/review/proposals/{proposal_id}"))
    assert 'id="checklist-read-only"' in reporting
    assert f'action="/review/proposals/{proposal_id}/screening"' not in reporting
    assert "The reviewers fill in the checklist." in reporting


def test_the_hrdd_officer_is_told_when_the_assessment_opens(app, people):
    [proposal_id] = make(app, "screening")
    page = text(signed_in(app, "hrdd@agency.lu").get(f"/review/proposals/{proposal_id}"))
    assert "The HRDD assessment opens when the proposal reaches the HRDD review" in page
    assert "Screening" in page
    [later] = make(app, "hrdd_review")
    page = text(signed_in(app, "hrdd@agency.lu").get(f"/review/proposals/{later}"))
    assert "The HRDD assessment opens when" not in page
    assert "Open the HRDD assessment" in page


def test_every_field_of_the_hrdd_form_has_a_name_of_its_own(app, people):
    """A screen reader hears "Severity: forced labour", not 27 fields named alike."""
    [proposal_id] = make(app, "hrdd_review")
    page = text(signed_in(app, "hrdd@agency.lu").get(f"/review/proposals/{proposal_id}/hrdd"))
    labels = [
        " ".join(re.sub(r"<[^>]+>", " ", label).split())
        for label in re.findall(r"<label[^>]*>(.*?)</label>", page, re.S)
    ]
    risk_labels = [
        label for label in labels if label.startswith(("Relevant", "Severity", "Likelihood"))
    ]
    assert len(risk_labels) >= 9
    assert len(set(labels)) == len(labels), sorted(
        label for label in labels if labels.count(label) > 1
    )


def test_the_company_sees_its_grant_and_then_its_agreement(app, people):
    [selected] = make(app, "selected")
    [signed] = make(app, "contracted")
    with app.app_context():
        from tracker.review.models import Contract

        granted = db.session.get(Proposal, selected).granted_eur
        number = db.session.scalar(sa.select(Contract.number).where(Contract.proposal_id == signed))
    owner = signed_in(app, "anna@company.lu")
    page = text(owner.get(f"/proposals/{selected}"))
    assert "Co-financing granted" in page and f"{granted:,.2f}" in page
    assert "The agreement is being prepared" in page
    page = text(owner.get(f"/proposals/{signed}"))
    assert number and number in page and "Agreement number" in page
    assert "The payment schedule, reports and conditions of your project" in page


def test_a_note_is_never_dropped_from_the_checklist(app, people):
    """A note on a computed item keeps the computed result; a note on an undecided manual item
    is refused with a message, and nothing is stored."""
    [proposal_id] = make(app, "screening")
    with app.app_context():
        from tracker.auth.models import User
        from tracker.review import operations as review_ops
        from tracker.review.rules import MANUAL_SCREENING_ITEMS

        reviewer = db.session.scalar(sa.select(User).where(User.email == "reviewer@agency.lu"))
        proposal = db.session.get(Proposal, proposal_id)
        computed = next(i for i in review_ops.screening_checklist(proposal) if not i.manual)
        review_ops.record_screening(proposal, reviewer, {computed.key: (None, "Seen the register")})
        db.session.commit()
        item = next(i for i in review_ops.screening_checklist(proposal) if i.key == computed.key)
        assert item.decision.note == "Seen the register" and item.met == computed.computed
        assert not item.overridden
        manual = next(iter(MANUAL_SCREENING_ITEMS))
        before = next(i for i in review_ops.screening_checklist(proposal) if i.key == manual)
        before = (before.decision.met, before.decision.note) if before.decision else None
        with pytest.raises(review_ops.ReviewError, match="choose met or not met"):
            review_ops.record_screening(proposal, reviewer, {manual: (None, "To ask")})
        db.session.rollback()
        item = next(i for i in review_ops.screening_checklist(proposal) if i.key == manual)
        assert ((item.decision.met, item.decision.note) if item.decision else None) == before


def test_the_concept_notes_screening_does_not_ask_about_documents_it_has_none_of(app, people):
    """A two-stage call screens the concept note: the documents come with the full proposal."""
    documents = "The required documents are present, readable and consistent with the form"
    [single] = make(app, "screening")
    [concept] = make(app, "screening", two_stage=True)
    [full] = make(app, "hrdd_review", two_stage=True)
    reviewer = signed_in(app, "reviewer@agency.lu")
    assert documents in text(reviewer.get(f"/review/proposals/{single}"))
    page = text(reviewer.get(f"/review/proposals/{concept}"))
    assert "The de minimis aid declared leaves room" in page and documents not in page
    with app.app_context():
        from tracker.review import operations as review_ops

        keys = {i.key for i in review_ops.screening_checklist(db.session.get(Proposal, concept))}
        assert "documents_readable" not in keys and "de_minimis_room" in keys
        problems = review_ops.screening_problems(db.session.get(Proposal, concept))
        assert not any(documents in problem for problem in problems)
        full_keys = {i.key for i in review_ops.screening_checklist(db.session.get(Proposal, full))}
        assert "documents_readable" in full_keys


def test_the_committee_reaches_its_rankings_from_the_navigation(app, people):
    ids = make(app, "selection", 2, title="Call before the committee")
    committee = signed_in(app, "committee@agency.lu")
    home = text(committee.get("/review/my-work"))
    assert 'href="/review/selection"' in home
    listing = text(committee.get("/review/selection"))
    assert "Call before the committee" in listing and "2 before the committee" in listing
    with app.app_context():
        proposal = db.session.get(Proposal, ids[0])
        call_id, company = proposal.call_id, proposal.lead_name
        sector = proposal.sector.label
        from tracker.review.models import HrddAssessment

        category = db.session.get(HrddAssessment, proposal.id).risk_category.value
    ranking = text(committee.get(f"/review/calls/{call_id}/selection"))
    for shown in (company, sector, category, "Company", "HRDD category"):
        assert shown in ranking
    assert re.search(r"\d+ scores, from \d+\.\d\d to \d+\.\d\d", ranking)
    assert signed_in(app, "anna@company.lu").get("/review/selection").status_code == 403


def test_a_submitted_version_and_the_reading_pack_as_pdf(app, people):
    from pypdf import PdfReader

    ids = make(app, "selection", 2, title="Call of the reading pack")
    with app.app_context():
        proposals = [db.session.get(Proposal, i) for i in ids]
        references = [p.reference for p in proposals]
        call_id = proposals[0].call_id
        from tracker.proposals.operations import submissions_of

        number = submissions_of(proposals[0])[-1].number
    owner = signed_in(app, "anna@company.lu")
    pdf = owner.get(f"/proposals/{ids[0]}/submissions/{number}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert references[0] in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    other = signed_in(app, "eve@other.lu")
    assert other.get(f"/proposals/{ids[0]}/submissions/{number}.pdf").status_code == 404
    committee = signed_in(app, "committee@agency.lu")
    pack = committee.get(f"/review/calls/{call_id}/selection.pdf")
    assert pack.status_code == 200
    reader = PdfReader(io.BytesIO(pack.data))
    content = " ".join(page.extract_text() for page in reader.pages)
    assert all(reference in content for reference in references)
    assert "Mean score" in content and len(reader.pages) >= 2  # one proposal per page at least
    assert (
        signed_in(app, "anna@company.lu").get(f"/review/calls/{call_id}/selection.pdf").status_code
        == 403
    )


def test_the_preselection_committee_compares_concept_notes_side_by_side(app, people):
    ids = make(app, "preselection", 3, two_stage=True, title="Spring call")
    [later] = make(app, "selection", 1, title="Ranked call")
    committee = signed_in(app, "committee@agency.lu")
    listing = text(committee.get("/review/selection"))
    with app.app_context():
        notes = [db.session.get(Proposal, i) for i in ids]
        call_id = notes[0].call_id
        references = [p.reference for p in notes]
        companies = [p.lead_name for p in notes]
        partner = notes[0].partners[0]
        partner_line = f"{partner.name} ({country_name(partner.country)})"
        ranked_call = db.session.get(Proposal, later).call_id
    assert (
        f'href="/review/calls/{call_id}/preselection"' in listing and "3 concept notes" in listing
    )
    assert f'href="/review/calls/{ranked_call}/selection"' in listing
    page = text(committee.get(f"/review/calls/{call_id}/preselection"))
    table = page[page.index('id="concept-notes"') : page.index("</table>")]
    header = table[: table.index("</thead>")]
    assert re.findall(r">([A-Z]+-\d{4}-\d+)</a>", header) == references  # one column each
    company_row = re.search(r"<tr><th scope=\"row\">Company</th>(.*?)</tr>", table, re.S).group(1)
    assert [c in company_row for c in companies] == [True, True, True]
    assert partner_line in table and "Summary" in table and "Requested" in table
    assert table.count('name="return_to" value="preselection"') == 6  # pre-select, reject
    # Deciding from the comparison comes back to it; a rejection without reason stays, typed.
    version = lambda pid: re.search(  # noqa: E731
        rf'/review/proposals/{pid}/transitions/preselect".*?name="version" value="(\d+)"',
        page,
        re.S,
    ).group(1)
    done = committee.post(
        f"/review/proposals/{ids[0]}/transitions/preselect",
        {"version": version(ids[0]), "return_to": "preselection"},
    )
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/review/calls/{call_id}/preselection")
    refused = committee.post(
        f"/review/proposals/{ids[1]}/transitions/reject_preselection",
        {"version": version(ids[1]), "return_to": "preselection", "note": "Weak market case"},
    )
    assert refused.status_code == 422 and 'id="concept-notes"' in text(refused)
    assert "Weak market case" in text(refused)
    with app.app_context():
        assert [db.session.get(Proposal, i).status for i in ids] == [
            "full_proposal",
            "preselection",
            "preselection",
        ]
    after = text(committee.get(f"/review/calls/{call_id}/preselection"))
    assert references[0] not in after and references[1] in after
    reviewer = text(
        signed_in(app, "reviewer@agency.lu").get(f"/review/calls/{call_id}/preselection")
    )
    assert references[1] in reviewer and 'value="preselection"' not in reviewer  # reads, no forms
    assert (
        signed_in(app, "anna@company.lu").get(f"/review/calls/{call_id}/preselection").status_code
        == 403
    )


def test_the_preselection_page_runs_the_same_queries_for_few_and_many(app, people):
    counts = {}
    for size in (2, 8):
        ids = make(app, "preselection", size, two_stage=True)
        with app.app_context():
            call_id = db.session.get(Proposal, ids[0]).call_id
        committee = signed_in(app, "committee@agency.lu")
        with count_queries(app) as counter:
            response = committee.get(f"/review/calls/{call_id}/preselection")
        assert text(response).count('scope="col" class="comparison-col"') == size
        counts[size] = counter["n"]
    assert counts[2] == counts[8], counts
