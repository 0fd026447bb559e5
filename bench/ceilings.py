"""What each measured thing costs when written by hand: the ceilings the benchmark divides by.

Each ceiling does the database work of its page or export with hand-written SQL on the raw
driver connection (psycopg or sqlite3) and the least Python that still yields the same content:
a queue page is one query and a table, a CSV is ``COPY ... TO STDOUT`` or a raw cursor through
``csv.writer``, an XLSX is XlsxWriter in constant-memory mode on the rows, a report is its
aggregates in SQL. None of them checks access, formats for a locale or draws a layout: the
ratio says what the tracker's own work costs on top.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile

import jinja2
import xlsxwriter

PAGE = jinja2.Template(
    "<table>{% for r in rows %}<tr><td><a href='/p/{{ r[0] }}'>{{ r[1] }}</a></td>"
    "<td>{{ r[2] }}</td><td>{{ r[3] }}</td><td>{{ r[4] }}</td><td>{{ r[5] }}</td>"
    "<td>{{ r[6] }}</td><td>{{ r[7] }}</td></tr>{% endfor %}</table>",
    autoescape=True,
)
DETAIL = jinja2.Template(
    "<h1>{{ p[1] }} {{ p[2] }}</h1><p>{{ p[3] }} {{ p[4] }} {{ p[5] }}</p><ol>"
    "{% for h in history %}<li>{{ h[0] }} {{ h[1] }} {{ h[2] }} {{ h[3] }}</li>{% endfor %}</ol>",
    autoescape=True,
)


def _mark(dialect: str) -> str:
    return "%s" if dialect == "postgresql" else "?"


def queue_page(
    raw, dialect: str, where: str = "", params=(), order="p.submitted_at DESC, p.id DESC", offset=0
):
    """One query for the page's 25 rows and a table of them."""
    sql = (
        "SELECT p.id, p.reference, p.title, p.lead_name, p.status, s.label, p.partner_country,"
        " p.requested_eur FROM proposals p LEFT JOIN sectors s ON s.id = p.sector_id"
        f" WHERE p.status <> 'draft' {where} ORDER BY {order} LIMIT 25 OFFSET {int(offset)}"
    )
    cursor = raw.cursor()
    cursor.execute(sql.replace("?", _mark(dialect)), params)
    return PAGE.render(rows=cursor.fetchall())


def proposal_page(raw, dialect: str, proposal_id: int):
    """Two queries: the proposal with its company and call, and its history."""
    mark = _mark(dialect)
    cursor = raw.cursor()
    cursor.execute(
        "SELECT p.id, p.reference, p.title, o.name, c.title, p.status FROM proposals p"
        " JOIN organisations o ON o.id = p.organisation_id JOIN calls c ON c.id = p.call_id"
        f" WHERE p.id = {mark}",
        (proposal_id,),
    )
    proposal = cursor.fetchone()
    cursor.execute(
        "SELECT seq, from_status, to_status, created_at FROM status_changes"
        f" WHERE proposal_id = {mark} ORDER BY seq",
        (proposal_id,),
    )
    return DETAIL.render(p=proposal, history=cursor.fetchall())


EXPORT_SQL = (
    "SELECT p.reference, p.title, pr.code, c.title, p.status, p.lead_name, p.lead_country,"
    " p.partner_country, p.partner_country, s.label, p.total_cost_eur, p.requested_eur,"
    " p.granted_eur, (SELECT avg(total) FROM scores WHERE proposal_id = p.id),"
    " p.submitted_at, p.updated_at"
    " FROM proposals p JOIN calls c ON c.id = p.call_id JOIN programmes pr ON pr.id = c.programme_id"
    " LEFT JOIN sectors s ON s.id = p.sector_id"
    " WHERE p.status <> 'draft' ORDER BY p.submitted_at DESC, p.id DESC"
)


def export_csv(raw, dialect: str) -> int:
    """The export's columns, unformatted: COPY on PostgreSQL, a raw cursor and csv.writer on
    SQLite. Returns the bytes written."""
    written = 0
    if dialect == "postgresql":
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY ({EXPORT_SQL}) TO STDOUT WITH (FORMAT csv)") as copy,
        ):
            for data in copy:
                written += len(data)
        return written
    cursor = raw.cursor()
    cursor.execute(EXPORT_SQL)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    while rows := cursor.fetchmany(2000):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(rows)
        written += len(buffer.getvalue().encode())
    return written


def export_xlsx(raw, dialect: str) -> int:
    """The same rows through XlsxWriter in constant-memory mode, nothing else."""
    cursor = raw.cursor()
    cursor.execute(EXPORT_SQL)
    with tempfile.TemporaryFile() as out:
        book = xlsxwriter.Workbook(out, {"constant_memory": True, "remove_timezone": True})
        sheet = book.add_worksheet("Proposals")
        number = 0
        while rows := cursor.fetchmany(2000):
            for row in rows:
                number += 1
                sheet.write_row(number, 0, row)
        book.close()
        return out.tell()


def report_json(
    raw, dialect: str, programme: str, year: int, selected, rejected, after_screening
) -> str:
    """The yearly report's content from hand-written SQL: first selections per year, the year's
    projects with their sector, partner, HRDD category and contract, the funnel of the year's
    calls, and the year's payments."""
    mark = _mark(dialect)
    cursor = raw.cursor()

    def listed(values):
        return ", ".join(f"'{v}'" for v in sorted(values))

    if dialect == "postgresql":
        local_year = "extract(year from f.at AT TIME ZONE 'Europe/Luxembourg')::int"
        call_year = "extract(year from coalesce(c.closes_at, c.opens_at) AT TIME ZONE 'Europe/Luxembourg')::int"
    else:  # the ceiling's cost, not its exactness: the year in UTC
        local_year = "CAST(strftime('%Y', f.at) AS INTEGER)"
        call_year = "CAST(strftime('%Y', coalesce(c.closes_at, c.opens_at)) AS INTEGER)"
    firsts = (
        "WITH f AS (SELECT sc.proposal_id, min(sc.created_at) AS at FROM status_changes sc"
        " JOIN proposals p ON p.id = sc.proposal_id JOIN calls c ON c.id = p.call_id"
        f" JOIN programmes pr ON pr.id = c.programme_id WHERE pr.code = {mark}"
        f" AND sc.to_status IN ({listed(selected)}) AND (sc.from_status IS NULL"
        f" OR sc.from_status NOT IN ({listed(rejected)})) GROUP BY sc.proposal_id)"
    )
    cursor.execute(
        f"{firsts} SELECT {local_year}, count(*) FROM f GROUP BY 1 ORDER BY 1", (programme,)
    )
    per_year = cursor.fetchall()
    cursor.execute(
        f"{firsts} SELECT p.reference, p.title, coalesce(p.lead_name, o.name), p.lead_country,"
        " lp.name, coalesce(lp.country, p.partner_country), s.key, p.total_cost_eur, p.granted_eur,"
        " h.risk_category, h.clause_decision, k.agency_signed_on, k.company_signed_on, f.at, p.status,"
        " (SELECT sum(i.paid_eur) FROM payment_instalments i WHERE i.contract_id = k.id"
        " AND i.paid_on IS NOT NULL)"
        " FROM f JOIN proposals p ON p.id = f.proposal_id"
        " LEFT JOIN organisations o ON o.id = p.organisation_id"
        " LEFT JOIN sectors s ON s.id = p.sector_id"
        " LEFT JOIN partners lp ON lp.id = (SELECT min(id) FROM partners x"
        " WHERE x.proposal_id = p.id AND x.is_local)"
        " LEFT JOIN hrdd_assessments h ON h.proposal_id = p.id"
        " LEFT JOIN contracts k ON k.proposal_id = p.id"
        f" WHERE {local_year} = {mark} ORDER BY f.at, p.reference",
        (programme, year),
    )
    projects = cursor.fetchall()
    cursor.execute(
        "SELECT count(*), count(e.proposal_id) FROM proposals p JOIN calls c ON c.id = p.call_id"
        " JOIN programmes pr ON pr.id = c.programme_id"
        " LEFT JOIN (SELECT DISTINCT proposal_id FROM status_changes"
        f" WHERE to_status IN ({listed(after_screening)})) e ON e.proposal_id = p.id"
        f" WHERE pr.code = {mark} AND p.submitted_at IS NOT NULL AND {call_year} = {mark}",
        (programme, year),
    )
    funnel = cursor.fetchone()
    return json.dumps(
        {
            "per_year": [list(map(str, row)) for row in per_year],
            "projects": [[None if v is None else str(v) for v in row] for row in projects],
            "funnel": list(funnel),
        }
    )
