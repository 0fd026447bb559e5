"""The yearly selection report in every format; each renders the same computed figures."""

from __future__ import annotations

import json
from datetime import date

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from tracker.core.countries import country_name
from tracker.core.spreadsheets import Column, add_sheet, csv_lines, new_workbook, workbook_bytes
from tracker.reports import charts
from tracker.reports.operations import SelectionReport

FORMATS = {
    "html": ("text/html; charset=utf-8", "html"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "pdf": ("application/pdf", "pdf"),
    "json": ("application/json", "json"),
}
TEXT_FORMATS = ("html", "csv", "json")

PROJECT_COLUMNS = [
    Column("reference", _l("Reference"), lambda p: p.reference),
    Column("title", _l("Title"), lambda p: p.title),
    Column("lead", _l("Lead company"), lambda p: p.lead_company),
    Column("lead_country", _l("Lead country"), lambda p: p.lead_country),
    Column("partner", _l("Local partner"), lambda p: p.partner),
    Column("partner_country", _l("Partner country"), lambda p: p.partner_country),
    Column("sector", _l("Sector"), lambda p: p.sector_label),
    Column("total", _l("Total cost (EUR)"), lambda p: p.total_cost_eur, "money"),
    Column("granted", _l("Co-financing granted (EUR)"), lambda p: p.granted_eur, "money"),
    Column("hrdd_category", _l("HRDD category"), lambda p: p.hrdd_category),
    Column("clause", _l("HRDD clause decision"), lambda p: p.clause_decision),
    Column("contract_status", _l("Contract status"), lambda p: p.contract_status),
    Column("contracted_on", _l("Contract date"), lambda p: p.contracted_on, "date"),
    Column("selected_on", _l("Selected on"), lambda p: p.selected_on, "date"),
    Column("paid", _l("Paid to date (EUR)"), lambda p: p.paid_eur, "money"),
    Column("state", _l("Implementation state"), lambda p: p.state),
]


STAGE_TITLES = {
    "submitted": _l("Submitted"),
    "eligible": _l("Eligible"),
    "preselected": _l("Pre-selected"),
    "selected": _l("Selected"),
}


def filename(report: SelectionReport, fmt: str) -> str:
    return f"selections-{report.programme_code}-{report.year}.{FORMATS[fmt][1]}"


def to_json(report: SelectionReport) -> str:
    return json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n"


def to_csv(report: SelectionReport) -> str:
    return "".join(csv_lines(PROJECT_COLUMNS, report.projects))


def chart_set(report: SelectionReport) -> dict:
    return {
        "per_year": charts.per_year(
            report.per_year,
            _("Selections per year since %(year)s", year=report.first_year),
            "chart-per-year",
            highlight=report.year,
        ),
        "by_sector": charts.horizontal_bars(
            [(report.sector_labels.get(k, k), n) for k, n in report.by_sector.items()],
            _("Selections in %(year)s by sector", year=report.year),
            "chart-sector",
        ),
        "by_partner_country": charts.horizontal_bars(
            [(country_name(k), n) for k, n in report.by_partner_country.items()],
            _("Selections in %(year)s by partner country", year=report.year),
            "chart-partner-country",
        ),
        "funnel": charts.horizontal_bars(
            [
                (STAGE_TITLES[stage], n)
                for stage, n in report.funnel.stages()
                if n is not None  # a stage the records do not tell is left out, not drawn as 0
            ],
            _("Funnel of the %(year)s calls", year=report.year),
            "chart-funnel",
        ),
    }


def to_html_document(report: SelectionReport) -> str:
    """A standalone, printable HTML document (also the source of the PDF)."""
    return render_template("reports/document.html", report=report, charts=chart_set(report))


def to_pdf(report: SelectionReport) -> bytes:
    from weasyprint import HTML

    # Tagged (PDF/UA-1): headings, tables and reading order for screen readers, the document's
    # language and title in its metadata.
    return HTML(string=to_html_document(report)).write_pdf(pdf_variant="pdf/ua-1")


def report_notes(report: SelectionReport) -> list[str]:
    """What the figures mean, for the workbook's notes sheet (and anyone reading it later)."""
    notes = [report.method] if report.method else []  # the programme's own notes first
    notes += [
        _(
            "A project counts in the year it was first selected, by the date of that decision "
            "in Luxembourg time; projects withdrawn or cancelled after their selection still "
            "count and are flagged."
        ),
        _(
            "The running total counts the selections since %(year)s, the programme's first year.",
            year=report.first_year,
        ),
        _(
            "Co-financing granted is the amount decided at selection; paid to date is what has "
            "been disbursed since."
        ),
        _("A project's partner country is the country of its first local partner."),
        _(
            "The funnel counts the proposals of the calls that closed in %(year)s.",
            year=report.year,
        ),
        _("Amounts are in euros. Produced on %(day)s.", day=date.today().isoformat()),
    ]
    if report.funnel.imported:
        notes.append(
            _(
                "Some of these calls were imported from earlier records, which do not say how "
                "many proposals were eligible or pre-selected."
            )
        )
    return notes


def to_xlsx(report: SelectionReport) -> bytes:
    """One sheet per table, amounts as numbers in euros, dates as dates, native charts."""
    book = new_workbook()
    summary_rows = [
        (_("Programme"), f"{report.programme_name} ({report.programme_code})"),
        (_("Year"), report.year),
        (_("Headline"), report.headline),
        (_("Selected in the year"), report.selected_in_year),
        (_("Selected since %(year)s", year=report.first_year), report.selected_since_start),
        (_("Co-financing granted (EUR)"), report.cofinancing_granted),
        (_("Average grant (EUR)"), report.average_granted),
        (_("Total cost of the selected projects (EUR)"), report.total_cost),
        (_("Co-financing as a share of the total cost (%)"), report.share_of_cost),
        (_("Disbursed in %(year)s (EUR)", year=report.year), report.disbursements.total_eur),
        (_("Payments in %(year)s", year=report.year), report.disbursements.payments),
        (
            _("Paid to date to the projects selected in the year (EUR)"),
            report.paid_to_selected,
        ),
        (_("Produced on"), date.today()),
    ]
    add_sheet(
        book,
        _("Summary"),
        [
            Column("what", _("Figure"), lambda r: r[0]),
            Column("value", _("Value"), lambda r: r[1], "mixed"),
        ],
        summary_rows,
        widths={"what": 45, "value": 60},
    )
    add_sheet(
        book,
        _("Projects"),
        PROJECT_COLUMNS,
        report.projects,
        widths={"title": 45, "lead": 30, "partner": 30, "contract_status": 26},
    )
    sector_sheet = add_sheet(
        book,
        _("By sector"),
        [
            Column("key", _("Sector key"), lambda r: r[0]),
            Column("label", _("Sector"), lambda r: report.sector_labels.get(r[0], r[0])),
            Column("n", _("Projects"), lambda r: r[1], "int"),
        ],
        list(report.by_sector.items()),
    )
    partner_sheet = add_sheet(
        book,
        _("By partner country"),
        [
            Column("code", _("Country code"), lambda r: r[0]),
            Column("name", _("Country"), lambda r: country_name(r[0])),
            Column("n", _("Projects"), lambda r: r[1], "int"),
        ],
        list(report.by_partner_country.items()),
    )
    add_sheet(
        book,
        _("By lead country"),
        [
            Column("code", _("Country code"), lambda r: r[0]),
            Column("name", _("Country"), lambda r: country_name(r[0])),
            Column("n", _("Projects"), lambda r: r[1], "int"),
        ],
        list(report.by_lead_country.items()),
    )
    funnel_rows = [
        (str(STAGE_TITLES[stage]), n if n is not None else _("not known"))
        for stage, n in report.funnel.stages()
    ]
    funnel_sheet = add_sheet(
        book,
        _("Funnel"),
        [
            Column("stage", _("Stage"), lambda r: r[0]),
            Column("n", _("Proposals"), lambda r: r[1], "mixed"),
        ],
        funnel_rows,
    )
    year_sheet = add_sheet(
        book,
        _("By year"),
        [
            Column("year", _("Year"), lambda r: r[0], "int"),
            Column("n", _("Selected"), lambda r: r[1], "int"),
            Column("total", _("Running total"), lambda r: r[2], "int"),
        ],
        report.per_year,
    )

    def bars(sheet, label_col: int, value_col: int, title: str, anchor: str, chart_type="bar"):
        """A bar chart of one column of a sheet against its labels (columns counted from 0)."""
        if sheet.rows == 0:
            return
        chart = book.book.add_chart({"type": chart_type})
        chart.add_series(
            {
                "name": [sheet.name, 0, value_col],
                "categories": [sheet.name, 1, label_col, sheet.rows, label_col],
                "values": [sheet.name, 1, value_col, sheet.rows, value_col],
            }
        )
        chart.set_title({"name": title})
        chart.set_legend({"none": True})
        chart.set_size({"width": 600, "height": 300})
        sheet.worksheet.insert_chart(anchor, chart)
        return chart

    bars(sector_sheet, 1, 2, _("Projects by sector, %(year)s", year=report.year), "E2")
    bars(partner_sheet, 1, 2, _("Projects by partner country, %(year)s", year=report.year), "E2")
    bars(funnel_sheet, 0, 1, _("Funnel of the %(year)s calls", year=report.year), "D2")
    if year_sheet.rows:
        per_year = bars(
            year_sheet,
            0,
            1,
            _("Selections per year since %(year)s", year=report.first_year),
            "E2",
            "column",
        )
        running = book.book.add_chart({"type": "line"})
        running.add_series(
            {
                "name": [year_sheet.name, 0, 2],
                "categories": [year_sheet.name, 1, 0, year_sheet.rows, 0],
                "values": [year_sheet.name, 1, 2, year_sheet.rows, 2],
                "y2_axis": True,
            }
        )
        per_year.combine(running)
        per_year.set_legend({"position": "bottom"})
        per_year.set_y2_axis({"name": _("Running total")})
    add_sheet(
        book,
        _("Notes"),
        [Column("note", _("How to read these figures"), lambda r: r)],
        report_notes(report),
        widths={"note": 120},
    )
    return workbook_bytes(book)


def render(report: SelectionReport, fmt: str) -> bytes:
    """The report as bytes in one of the formats."""
    if fmt == "json":
        return to_json(report).encode("utf-8")
    if fmt == "csv":
        return to_csv(report).encode("utf-8")
    if fmt == "html":
        return to_html_document(report).encode("utf-8")
    if fmt == "xlsx":
        return to_xlsx(report)
    if fmt == "pdf":
        return to_pdf(report)
    raise ValueError(f"unknown format {fmt!r}")
