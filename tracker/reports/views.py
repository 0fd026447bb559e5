"""The report page for staff, with its downloads."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from tracker.auth.models import Role
from tracker.core.time import local_today
from tracker.core.web import roles_required
from tracker.extensions import db
from tracker.programmes.models import Programme
from tracker.reports import exports
from tracker.reports.operations import (
    ReportError,
    programme_by_code,
    report_years,
    selection_report,
)

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _choice():
    """The programme and year asked for, defaulting to the first programme and last year."""
    query = sa.select(Programme).order_by(Programme.code)
    scope = current_user.programmes_for(Role.reporting)  # None: every programme
    if scope is not None:
        query = query.where(Programme.id.in_(scope))
    programmes = list(db.session.scalars(query))
    code = request.args.get("programme") or (programmes[0].code if programmes else "")
    if code and scope is not None and code not in {p.code for p in programmes}:
        abort(404)  # a programme outside the person's roles is not theirs to report on
    year_text = request.args.get("year", "")
    if year_text and not (year_text.isdigit() and len(year_text) == 4):
        abort(404)
    year = int(year_text) if year_text else local_today().year - 1
    return programmes, code, year


@bp.get("/selections")
@roles_required(Role.reporting)
def selections():
    programmes, code, year = _choice()
    if not programmes:
        return render_template(
            "reports/selections.html", programmes=[], report=None, years=[], charts={}
        )
    try:
        programme = programme_by_code(code)
        report = selection_report(code, year)
    except ReportError:
        abort(404)
    return render_template(
        "reports/selections.html",
        programmes=programmes,
        programme=programme,
        report=report,
        years=report_years(programme),
        charts=exports.chart_set(report),
    )


@bp.get("/selections.<fmt>")
@roles_required(Role.reporting)
def download(fmt: str):
    if fmt not in exports.FORMATS:
        abort(404)
    _programmes, code, year = _choice()
    try:
        report = selection_report(code, year)
    except ReportError:
        abort(404)
    content = exports.render(report, fmt)
    mimetype, _ext = exports.FORMATS[fmt]
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(
        content,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'{disposition}; filename="{exports.filename(report, fmt)}"'
        },
    )
