"""The yearly selection report: exact figures for a known history, the same in every format."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from pypdf import PdfReader

from tests import factories as f
from tests.imports.test_import import FIXTURE
from tests.web import Web, text
from tracker.extensions import db
from tracker.imports import operations as import_ops
from tracker.programmes.models import Call
from tracker.proposals.models import Partner, PartnerKind, Proposal
from tracker.reports import exports
from tracker.reports.operations import selection_report
from tracker.workflow.operations import record_imported_history


@pytest.fixture
def history(app, tmp_path):
    """The import fixture, plus two selections either side of midnight on New Year's Eve in Luxembourg."""
    with app.app_context():
        plan = import_ops.plan_import(FIXTURE)
        assert plan.ok, plan.errors
        import_ops.execute(plan)
        call = db.session.scalar(sa.select(Call).where(Call.title == "Test call 2019"))
        owner = f.applicant()
        for reference, moment in (
            (
                "TST-2019-090",
                datetime(2019, 12, 31, 22, 30, tzinfo=UTC),
            ),  # 23:30 in Luxembourg: 2019
            (
                "TST-2019-091",
                datetime(2019, 12, 31, 23, 30, tzinfo=UTC),
            ),  # 00:30 on 1 January: 2020
        ):
            proposal = Proposal(
                call=call,
                organisation=owner.organisation,
                reference=reference,
                status="draft",
                title=f"Edge {reference}",
                lead_name="Company S.A.",
                lead_country="LU",
                sector=f.sector("ict"),
                total_cost_eur=400000,
                requested_eur=200000,
                granted_eur=150000,
                partner_country="VN",
                target_countries=[],
                sdgs=[],
                unsaved_inputs={},
                imported=True,
                submitted_at=datetime(2019, 9, 1, tzinfo=UTC),
            )
            proposal.partners.append(
                Partner(
                    position=1,
                    name="Hanoi Partner",
                    country="VN",
                    kind=PartnerKind.company,
                    is_local=True,
                )
            )
            db.session.add(proposal)
            db.session.flush()
            record_imported_history(
                proposal,
                [
                    ("import", "submitted", datetime(2019, 9, 1, tzinfo=UTC), ""),
                    ("import", "selected", moment, ""),
                ],
            )
        db.session.commit()
    return app


def report(app, year):
    with app.app_context():
        return selection_report("TST", year)


def test_json_has_the_exact_figures(history, runner, tmp_path):
    result = runner.invoke(
        args=[
            "report",
            "selections",
            "--programme",
            "TST",
            "--year",
            "2019",
            "--format",
            "json",
            "--output",
            "-",
        ]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{") :])
    assert data["programme"] == "TST"
    assert data["year"] == 2019 and data["first_year"] == 2018
    # 2018: TST-2018-001 and TST-2018-003 (selected 31 December 2018, contracted 2019).
    # 2019: TST-2019-002, TST-2019-003 (1 January) and TST-2019-090 (23:30 on 31 December).
    assert data["selected_in_year"] == 3
    assert data["selected_since_start"] == 5
    assert data["cofinancing_granted_eur"] == "540000.00"
    assert data["by_sector"] == {"fintech": 1, "logistics": 1, "ict": 1}
    assert data["by_partner_country"] == {"LA": 1, "CV": 1, "VN": 1}
    assert [(p["reference"], p["selected_on"], p["granted_eur"]) for p in data["projects"]] == [
        ("TST-2019-003", "2019-01-01", "200000.00"),
        ("TST-2019-002", "2019-03-01", "190000.00"),
        ("TST-2019-090", "2019-12-31", "150000.00"),
    ]
    assert (
        data["headline"]
        == "In 2019, 3 projects were selected under the TST, taking the total to 5 since 2018."
    )
    assert data["per_year"] == [
        {"year": 2018, "selected": 2, "total": 2},
        {"year": 2019, "selected": 3, "total": 5},
    ]  # the 2020 selection is in the data, not in the 2019 report: a report stops at its year
    assert data["funnel"] == {
        "calls": ["Test call 2019"],
        "submitted": 5,
        "eligible": 4,
        "preselected": 4,
        "selected": 4,
        "stages_known": False,  # an imported call: the counts between are what was recorded
    }
    stages = dict(report(history, 2019).funnel.stages())
    assert stages["eligible"] is None and stages["preselected"] is None  # shown as not known
    assert stages["submitted"] == 5 and stages["selected"] == 4


def test_headlines_singular_plural_none_and_before_the_start(history):
    assert report(history, 2018).headline == (
        "In 2018, 2 projects were selected under the TST, the first year of the facility."
    )
    assert report(history, 2020).headline == (
        "In 2020, 1 project was selected under the TST, taking the total to 6 since 2018."
    )
    assert (
        report(history, 2021).headline
        == "In 2021, no project was selected under the TST; the total since 2018 remains 6."
    )
    assert (
        report(history, 2017).headline
        == "The TST started in 2018; there were no selections in 2017."
    )


def test_a_contract_signed_the_next_year_counts_in_the_year_of_selection(history):
    figures = report(history, 2018)
    [contracted] = [p for p in figures.projects if p.reference == "TST-2018-003"]
    assert contracted.selected_on.isoformat() == "2018-12-31"
    assert contracted.contract_status == "contracted"
    assert contracted.contracted_on.isoformat() == "2019-02-01"
    assert figures.cofinancing_granted == 330000
    assert str(figures.share_of_cost) == "45.8"  # 330,000 of 720,000


def test_csv_rows(history):
    rows = list(csv.reader(io.StringIO(exports.to_csv(report(history, 2019)))))
    assert rows[0][:3] == ["Reference", "Title", "Lead company"]
    assert [r[0] for r in rows[1:]] == ["TST-2019-003", "TST-2019-002", "TST-2019-090"]
    assert rows[2][7:9] == ["380000.00", "190000.00"]
    assert rows[2][11:14] == ["contracted", "2019-04-01", "2019-03-01"]


def test_xlsx_cells_and_charts(history):
    with history.app_context():
        book = load_workbook(io.BytesIO(exports.to_xlsx(selection_report("TST", 2019))))
    assert book.sheetnames == [
        "Summary",
        "Projects",
        "By sector",
        "By partner country",
        "By lead country",
        "Funnel",
        "By year",
        "Notes",
    ]
    notes = [row[0].value for row in book["Notes"].iter_rows(min_row=2)]
    assert any("first selected" in note for note in notes) and len(notes) >= 5
    assert book["Projects"].auto_filter.ref and book["Projects"].print_title_rows
    summary = {row[0].value: row[1].value for row in book["Summary"].iter_rows(min_row=2)}
    assert summary["Selected in the year"] == 3 and summary["Selected since 2018"] == 5
    assert summary["Headline"].startswith("In 2019, 3 projects were selected")
    projects = book["Projects"]
    assert projects["A2"].value == "TST-2019-003"
    granted = projects["I2"]
    assert granted.value == 200000 and "€" in granted.number_format
    assert (
        projects["N2"].value == datetime(2019, 1, 1)
        and projects["N2"].number_format == "yyyy-mm-dd"
    )
    assert [(c.value) for c in book["By year"]["C"][1:]] == [2, 5]
    for name in ("By sector", "By partner country", "Funnel", "By year"):
        assert len(book[name]._charts) == 1, name


def test_pdf_text(history):
    with history.app_context():
        pdf = exports.to_pdf(selection_report("TST", 2019))
    reader = PdfReader(io.BytesIO(pdf))
    # Tagged for screen readers (PDF/UA-1): a structure tree, marked content, a language.
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root and root["/Lang"]
    assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data()
    content = " ".join(page.extract_text() for page in reader.pages)
    content = " ".join(content.split())
    assert (
        "In 2019, 3 projects were selected under the TST, taking the total to 5 since 2018."
        in content
    )
    for reference in ("TST-2019-003", "TST-2019-002", "TST-2019-090"):
        assert reference in content
    assert "€540,000.00" in content


def test_html_document(history, runner, tmp_path):
    target = tmp_path / "report.html"
    result = runner.invoke(
        args=[
            "report",
            "selections",
            "--programme",
            "tst",
            "--year",
            "2019",
            "--format",
            "html",
            "--output",
            str(target),
        ]
    )
    assert result.exit_code == 0
    page = target.read_text()
    assert (
        "In 2019, 3 projects were selected under the TST, taking the total to 5 since 2018." in page
    )
    assert page.count("<svg") == 4 and "cdn" not in page.lower()


def test_the_cli_refuses_binary_formats_on_standard_output_and_unknown_programmes(history, runner):
    binary = runner.invoke(
        args=[
            "report",
            "selections",
            "--programme",
            "TST",
            "--year",
            "2019",
            "--format",
            "pdf",
            "--output",
            "-",
        ]
    )
    assert (
        binary.exit_code == 1
        and "needs a file" not in binary.output
        and "give a file" in binary.output
    )
    unknown = runner.invoke(
        args=[
            "report",
            "selections",
            "--programme",
            "XYZ",
            "--year",
            "2019",
            "--format",
            "json",
            "--output",
            "-",
        ]
    )
    assert unknown.exit_code == 1 and "no programme with the code" in unknown.output


def test_formula_like_cells_are_neutralised(history):
    with history.app_context():
        proposal = db.session.scalar(
            sa.select(Proposal).where(Proposal.reference == "TST-2019-002")
        )
        proposal.title = "+SUM(A1:A9)"
        db.session.commit()
        figures = selection_report("TST", 2019)
        book = load_workbook(io.BytesIO(exports.to_xlsx(figures)))
    assert "'+SUM(A1:A9)" in exports.to_csv(figures)
    assert book["Projects"]["B3"].value == "'+SUM(A1:A9)"


def test_report_page_and_downloads_for_reporting_staff_only(history):
    with history.app_context():
        f.staff("reporting")
        f.staff("reviewer")
        db.session.commit()
    reviewer = Web(history.test_client())
    reviewer.login("reviewer@agency.lu")
    assert reviewer.get("/reports/selections?programme=TST&year=2019").status_code == 403
    assert reviewer.get("/reports/selections.json?programme=TST&year=2019").status_code == 403
    web = Web(history.test_client())
    web.login("reporting@agency.lu")
    page = text(web.get("/reports/selections?programme=TST&year=2019"))
    assert (
        "In 2019, 3 projects were selected under the TST, taking the total to 5 since 2018." in page
    )
    assert page.count("<svg") == 4
    data = web.get("/reports/selections.json?programme=TST&year=2019")
    assert data.json["selected_in_year"] == 3
    for fmt in ("csv", "xlsx", "pdf"):
        response = web.get(f"/reports/selections.{fmt}?programme=TST&year=2019")
        assert response.status_code == 200
        assert (
            response.headers["Content-Disposition"]
            == f'attachment; filename="selections-TST-2019.{fmt}"'
        )
    assert web.get("/reports/selections.doc?programme=TST&year=2019").status_code == 404
    assert web.get("/reports/selections?programme=NOPE&year=2019").status_code == 404
    assert web.get("/reports/selections?programme=TST&year=20x9").status_code == 404


def test_the_demo_reproduces_the_published_figures(app, runner):
    with app.app_context():
        from tracker.demo import load_demo

        load_demo()
    expected = {2020: (5, 30), 2021: (4, 34), 2023: (3, 39), 2024: (5, 44)}
    for year, (selected, total) in expected.items():
        result = runner.invoke(
            args=[
                "report",
                "selections",
                "--programme",
                "BPF",
                "--year",
                str(year),
                "--format",
                "json",
                "--output",
                "-",
            ]
        )
        data = json.loads(result.output[result.output.index("{") :])
        assert (data["selected_in_year"], data["selected_since_start"]) == (selected, total), year
    with app.app_context():
        figures = selection_report("BPF", 2021)
        headline = "In 2021, 4 projects were selected under the Business Partnership Facility, taking the total to 34 since 2016."
        assert figures.headline == headline
        assert headline in exports.to_html_document(figures)
        assert len(list(csv.reader(io.StringIO(exports.to_csv(figures))))) == 5
        book = load_workbook(io.BytesIO(exports.to_xlsx(figures)))
        assert {r[0].value: r[1].value for r in book["Summary"].iter_rows(min_row=2)}[
            "Selected since 2016"
        ] == 34
        pdf_text = " ".join(
            " ".join(
                p.extract_text() for p in PdfReader(io.BytesIO(exports.to_pdf(figures))).pages
            ).split()
        )
        assert headline in pdf_text
        # Sectors as the calls opened them: COVID-19 appears from 2021, SDG-wide sectors from 2022.
        early = {p.sector_key for y in (2016, 2017) for p in selection_report("BPF", y).projects}
        assert early <= {"biohealth", "ict", "fintech", "eco-innovation"}


def test_the_programme_gives_the_report_its_introduction_and_method_notes(history):
    with history.app_context():
        from tracker.programmes.models import Programme

        programme = db.session.scalar(sa.select(Programme).where(Programme.code == "TST"))
        programme.report_introduction = "The facility co-finances partnerships with companies."
        programme.report_method = "Figures come from the tracker and the 2016-2019 records."
        db.session.commit()
        made = selection_report("TST", 2019)
        html = exports.to_html_document(made)
        book = load_workbook(io.BytesIO(exports.to_xlsx(made)))
    assert "The facility co-finances partnerships" in html and "About these figures" in html
    assert "Figures come from the tracker" in html
    notes = [row[0].value for row in book["Notes"].iter_rows(min_row=2)]
    assert notes[0] == "Figures come from the tracker and the 2016-2019 records."


@pytest.mark.parametrize(
    ("language", "headline", "sheet", "header", "chart"),
    [
        (
            "fr",
            "En 2019, 3 projets ont été sélectionnés au titre du programme TST, ce qui porte le "
            "total à 5 depuis 2018.",
            "Par pays partenaire",
            "Cofinancement accordé (EUR)",
            "Sélections de 2019 par secteur",
        ),
        (
            "de",
            "2019 wurden im Rahmen des Programms TST 3 Projekte ausgewählt; damit sind es seit "
            "2018 insgesamt 5.",
            "Nach Partnerland",
            "Bewilligte Kofinanzierung (EUR)",
            "Auswahl 2019 nach Sektor",
        ),
    ],
)
def test_the_report_speaks_the_readers_language_in_every_format(
    history, language, headline, sheet, header, chart
):
    with history.app_context():
        f.staff("reporting")
        db.session.commit()
    web = Web(history.test_client())
    web.login("reporting@agency.lu")
    web.post("/language", {"locale": language, "next": "/"})
    page = text(web.get("/reports/selections?programme=TST&year=2019"))
    assert headline in page and chart in page
    workbook = load_workbook(
        io.BytesIO(web.get("/reports/selections.xlsx?programme=TST&year=2019").data)
    )
    assert sheet in workbook.sheetnames
    projects = workbook.worksheets[1]
    assert header in [cell.value for cell in projects[1]]
    summary = {row[0].value: row[1].value for row in workbook.worksheets[0].iter_rows(min_row=2)}
    assert headline in summary.values()
    pdf = web.get("/reports/selections.pdf?programme=TST&year=2019").data
    from pypdf import PdfReader

    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert " ".join(headline.split()[:4]) in " ".join(words.split())
