"""Exports of the staff queue: the filtered list as CSV or XLSX."""

from __future__ import annotations

from tracker.core.countries import country_name
from tracker.core.spreadsheets import Column, add_sheet, csv_lines, new_workbook, workbook_bytes
from tracker.core.templating import state_label
from tracker.review.queue import QueueFilter, iter_export

COLUMNS = [
    Column("reference", "Reference", lambda r: r[0].reference),
    Column("title", "Title", lambda r: r[0].title),
    Column("programme", "Programme", lambda r: r[0].call.programme.code),
    Column("call", "Call", lambda r: r[0].call.title),
    Column("status", "Status", lambda r: state_label(r[0].status)),
    Column("lead", "Lead applicant", lambda r: r[0].lead_name),
    Column("lead_country", "Lead country", lambda r: r[0].lead_country),
    Column("partner_country", "Partner country", lambda r: r[0].partner_country),
    Column(
        "partner_country_name", "Partner country name", lambda r: country_name(r[0].partner_country)
    ),
    Column("sector", "Sector", lambda r: r[0].sector.label if r[0].sector else None),
    Column("total", "Total cost (EUR)", lambda r: r[0].total_cost_eur, "money"),
    Column("requested", "Requested (EUR)", lambda r: r[0].requested_eur, "money"),
    Column("granted", "Granted (EUR)", lambda r: r[0].granted_eur, "money"),
    Column("score", "Mean score", lambda r: r[1], "percent"),
    Column("submitted", "Submitted", lambda r: r[0].submitted_at, "datetime"),
    Column("updated", "Last change", lambda r: r[0].updated_at, "datetime"),
]


def queue_csv(f: QueueFilter):
    return csv_lines(COLUMNS, iter_export(f))


def queue_xlsx(f: QueueFilter) -> bytes:
    workbook = new_workbook()
    add_sheet(
        workbook, "Proposals", COLUMNS, iter_export(f), widths={"title": 50, "call": 30, "lead": 30}
    )
    return workbook_bytes(workbook)
