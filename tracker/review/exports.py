"""Exports of the staff queue: the filtered list as CSV or XLSX."""

from __future__ import annotations

from tracker.core.countries import country_name
from tracker.core.spreadsheets import Column, add_sheet, csv_lines, new_workbook, workbook_bytes
from tracker.core.templating import state_label
from tracker.extensions import db
from tracker.review.queue import QueueFilter, iter_export, iter_export_with_answers


def _label(status: str) -> str:
    """The status's label, looked up once per status and export (thousands of rows share a few)."""
    from flask import g, has_app_context

    if not has_app_context():
        return state_label(status)
    labels = g.setdefault("export_state_labels", {})
    if status not in labels:
        labels[status] = state_label(status)
    return labels[status]


COLUMNS = [
    Column("reference", "Reference", lambda r: r.reference),
    Column("title", "Title", lambda r: r.title),
    Column("programme", "Programme", lambda r: r.programme),
    Column("call", "Call", lambda r: r.call),
    Column("status", "Status", lambda r: _label(r.status)),
    Column("lead", "Lead applicant", lambda r: r.lead_name),
    Column("lead_country", "Lead country", lambda r: r.lead_country),
    Column("partner_country", "Partner country", lambda r: r.partner_country),
    Column(
        "partner_country_name", "Partner country name", lambda r: country_name(r.partner_country)
    ),
    Column("sector", "Sector", lambda r: r.sector),
    Column("total", "Total cost (EUR)", lambda r: r.total_cost_eur, "money"),
    Column("requested", "Requested (EUR)", lambda r: r.requested_eur, "money"),
    Column("granted", "Granted (EUR)", lambda r: r.granted_eur, "money"),
    Column("score", "Mean score", lambda r: r.mean_score, "percent"),
    Column("submitted", "Submitted", lambda r: r.submitted_at, "datetime"),
    Column("updated", "Last change", lambda r: r.updated_at, "datetime"),
]


def _with_questions(f: QueueFilter):
    """The columns and rows: one column more per question when the list is of one call."""
    if not f.call:
        return COLUMNS, iter_export(f)
    from tracker.programmes.models import Call
    from tracker.questions.operations import questions_of, shown, text

    call = db.session.get(Call, f.call)
    questions = questions_of(call) if call else []
    if not questions:
        return COLUMNS, iter_export(f)

    def answer_of(question):
        def get(row):
            return shown(question.kind.value, row.answers.get(question.id), question.settings)

        return get

    columns = list(COLUMNS) + [
        Column(f"q_{q.key}", str(text(q.label)), answer_of(q)) for q in questions
    ]
    return columns, iter_export_with_answers(f, questions)


def queue_csv(f: QueueFilter):
    columns, rows = _with_questions(f)
    return csv_lines(columns, rows)


def queue_xlsx(f: QueueFilter) -> bytes:
    columns, rows = _with_questions(f)
    workbook = new_workbook()
    add_sheet(workbook, "Proposals", columns, rows, widths={"title": 50, "call": 30, "lead": 30})
    return workbook_bytes(workbook)
