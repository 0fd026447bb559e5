"""The portfolio and the payments as CSV and XLSX (formulas neutralised, amounts typed)."""

from __future__ import annotations

from flask_babel import gettext as _

from tracker.core.spreadsheets import Column, add_sheet, csv_lines, new_workbook, workbook_bytes
from tracker.core.templating import state_label


def portfolio_columns() -> list[Column]:
    return [
        Column("reference", _("Reference"), lambda line: line.proposal.reference),
        Column("title", _("Title"), lambda line: line.proposal.title),
        Column(
            "company",
            _("Company"),
            lambda line: line.proposal.lead_name or line.proposal.organisation.name,
        ),
        Column("programme", _("Programme"), lambda line: line.proposal.call.programme.code),
        Column("call", _("Call"), lambda line: line.proposal.call.title),
        Column("country", _("Partner country"), lambda line: line.proposal.partner_country),
        Column(
            "sector",
            _("Sector"),
            lambda line: line.proposal.sector.label if line.proposal.sector else None,
        ),
        Column("state", _("State"), lambda line: state_label(line.state)),
        Column("granted_eur", _("Granted (EUR)"), lambda line: line.granted, "money"),
        Column("paid_eur", _("Paid (EUR)"), lambda line: line.paid, "money"),
        Column("remaining_eur", _("Remaining (EUR)"), lambda line: line.remaining, "money"),
        Column("next_report_due", _("Next report due"), lambda line: line.next_report_due, "date"),
        Column(
            "overdue_conditions",
            _("Overdue conditions"),
            lambda line: line.overdue_conditions,
            "int",
        ),
        Column("open_grievances", _("Open grievances"), lambda line: line.open_grievances, "int"),
    ]


def payment_columns() -> list[Column]:
    return [
        Column("paid_on", _("Paid on"), lambda r: r.instalment.paid_on, "date"),
        Column("reference", _("Proposal"), lambda r: r.proposal.reference),
        Column("agreement", _("Agreement"), lambda r: r.contract.number),
        Column(
            "company", _("Company"), lambda r: r.proposal.lead_name or r.proposal.organisation.name
        ),
        Column("programme", _("Programme"), lambda r: r.proposal.call.programme.code),
        Column("tranche", _("Tranche"), lambda r: f"{r.instalment.position}. {r.instalment.label}"),
        Column("planned_eur", _("Planned (EUR)"), lambda r: r.instalment.amount_eur, "money"),
        Column("paid_eur", _("Paid (EUR)"), lambda r: r.instalment.paid_eur, "money"),
        Column(
            "payment_reference", _("Payment reference"), lambda r: r.instalment.payment_reference
        ),
        Column(
            "recorded_by",
            _("Recorded by"),
            lambda r: r.instalment.paid_by.name if r.instalment.paid_by else None,
        ),
    ]


def as_csv(columns, rows):
    return csv_lines(columns, rows)


def as_xlsx(title: str, columns, rows) -> bytes:
    workbook = new_workbook()
    add_sheet(workbook, title, columns, rows, widths={"title": 40, "company": 30})
    return workbook_bytes(workbook)
