"""Exports of the staff queue: the filtered list as CSV or XLSX."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from tracker.core import sqlcsv
from tracker.core.countries import country_names, english_country_name
from tracker.core.db import CENT
from tracker.core.spreadsheets import Column, add_sheet, csv_lines, new_workbook
from tracker.core.templating import state_label
from tracker.extensions import db
from tracker.programmes.models import Call, Programme, Sector
from tracker.proposals.models import Proposal
from tracker.review.queue import (
    QueueFilter,
    export_query,
    iter_export,
    iter_export_with_answers,
    mean_score_column,
)
from tracker.workflow.definitions import all_states


def _label(status: str) -> str:
    """The status's label, looked up once per status and export (thousands of rows share a few)."""
    from flask import g, has_app_context

    if not has_app_context():
        return state_label(status)
    labels = g.setdefault("export_state_labels", {})
    if status not in labels:
        labels[status] = state_label(status)
    return labels[status]


def _two_decimals(value) -> Decimal | None:
    """The mean score as the database rounded it (SQLite hands back a float)."""
    return None if value is None else Decimal(str(value)).quantize(CENT)


COLUMNS = [
    Column("reference", _l("Reference"), lambda r: r.reference),
    Column("title", _l("Title"), lambda r: r.title),
    Column("programme", _l("Programme"), lambda r: r.programme),
    Column("call", _l("Call"), lambda r: r.call),
    Column("status", _l("Status"), lambda r: _label(r.status)),
    Column("lead", _l("Lead applicant"), lambda r: r.lead_name),
    Column("lead_country", _l("Lead country"), lambda r: r.lead_country),
    Column("partner_country", _l("Partner country"), lambda r: r.partner_country),
    Column(
        "partner_country_name",
        _l("Partner country name"),
        lambda r: english_country_name(r.partner_country),
    ),
    Column("sector", _l("Sector"), lambda r: r.sector),
    Column("total", _l("Total cost (EUR)"), lambda r: r.total_cost_eur, "money"),
    Column("requested", _l("Requested (EUR)"), lambda r: r.requested_eur, "money"),
    Column("granted", _l("Granted (EUR)"), lambda r: r.granted_eur, "money"),
    Column("score", _l("Mean score"), lambda r: _two_decimals(r.mean_score), "percent"),
    Column("submitted", _l("Submitted"), lambda r: r.submitted_at, "datetime"),
    Column("updated", _l("Last change"), lambda r: r.updated_at, "datetime"),
]


def _with_questions(f: QueueFilter):
    """The columns and rows: one column more per question when the list is of one call."""
    if not f.call:
        return COLUMNS, None
    from tracker.programmes.models import Call
    from tracker.questions.operations import questions_of, shown, text

    call = db.session.get(Call, f.call)
    questions = questions_of(call) if call else []
    if not questions:
        return COLUMNS, None

    def answer_of(question):
        def get(row):
            return shown(question.kind.value, row.answers.get(question.id), question.settings)

        return get

    columns = list(COLUMNS) + [
        Column(f"q_{q.key}", str(text(q.label)), answer_of(q)) for q in questions
    ]
    return columns, iter_export_with_answers(f, questions)


def queue_csv(f: QueueFilter):
    """The CSV of the filtered queue, streamed. Without a call's questions the database writes
    every cell (``tracker.core.sqlcsv``); with them, Python adds the answers' columns."""
    columns, rows = _with_questions(f)
    if rows is not None:
        return (line.encode() for line in csv_lines(columns, rows, line_end=sqlcsv.LINE_END))
    return sqlcsv.stream(_csv_query(f), [str(c.title) for c in COLUMNS], db.session)


def _csv_query(f: QueueFilter) -> sa.Select:
    """The columns of ``COLUMNS``, each as the text ``plain`` would write for it."""
    dialect = db.engine.dialect.name
    text, money, minute = (
        lambda c: sqlcsv.text_cell(c, dialect),
        lambda c: sqlcsv.money_cell(c, dialect),
        lambda c: sqlcsv.local_minute_cell(c, dialect),
    )
    labels = sqlcsv.lookup({k: state_label(k) for k in all_states()}, "labels")
    countries = sqlcsv.lookup(country_names(), "countries")
    query = (
        sa.select(
            Proposal.reference,  # made by the tracker: "BPF-2021-000123"
            text(Proposal.title),
            text(Programme.code),
            text(Call.title),
            sa.func.coalesce(labels.c.label, text(Proposal.status)),
            text(Proposal.lead_name),
            text(Proposal.lead_country),
            text(Proposal.partner_country),
            sa.func.coalesce(countries.c.label, text(Proposal.partner_country)),
            text(Sector.label),
            money(Proposal.total_cost_eur),
            money(Proposal.requested_eur),
            money(Proposal.granted_eur),
            money(sa.func.round(mean_score_column(), 2)),
            minute(Proposal.submitted_at),
            minute(Proposal.updated_at),
        )
        .outerjoin(labels, labels.c.key == Proposal.status)
        .outerjoin(countries, countries.c.key == sa.func.upper(Proposal.partner_country))
    )
    return export_query(query, f)


def queue_xlsx(f: QueueFilter) -> Iterator[bytes]:
    """The XLSX of the filtered queue, written row by row to a temporary file and streamed."""
    columns, rows = _with_questions(f)
    if rows is None:
        rows = iter_export(f)
    workbook = new_workbook()
    add_sheet(workbook, _("Proposals"), columns, rows, widths={"title": 50, "call": 30, "lead": 30})
    return workbook.chunks()
