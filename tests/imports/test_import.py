"""`tracker import proposals`: all or nothing, every error named with its line, idempotent."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.web import Web, text
from tracker.extensions import db
from tracker.imports import operations as ops
from tracker.programmes.models import Call, Programme
from tracker.proposals.models import Proposal
from tracker.workflow.history import verify_chains
from tracker.workflow.models import StatusChange

HEADER = (
    "reference,programme,call,title,lead_organisation,lead_country,partner_organisation,partner_country,"
    "sector,total_budget_eur,requested_eur,submitted_on,outcome,decided_on,granted_eur,contracted_on,hrdd_category"
)

# Several years, edge dates (31 December, 1 January), a contract signed the next year,
# a withdrawal without a date, an undecided proposal, rejections.
FIXTURE = (
    "\n".join(
        [
            HEADER,
            "TST-2018-001,TST,Test call 2018,Solar kiosks,Luxsolar S.A.,LU,Dakar Energie SARL,SN,renewable-energy,300000.00,150000.00,2018-03-01,selected,2018-06-15,150000.00,,",
            "TST-2018-002,TST,Test call 2018,Drone mapping,Orbitale S.A.,LU,Hanoi Maps,VN,Space,500000.00,200000.00,2018-03-02,rejected,2018-06-15,,,",
            "TST-2018-003,TST,Test call 2018,Mobile clinics,MedTrack S.A.,BE,Addis Health,ET,HEALTHTECH,420000.00,200000.00,2018-03-05,contracted,2018-12-31,180000.00,2019-02-01,",
            "TST-2019-001,TST,Test call 2019,Water kiosks,Luxsolar S.A.,LU,Niamey Eau,NE,cleantech,250000.00,120000.00,2019-02-10,withdrawn,,,,",
            "TST-2019-002,TST,Test call 2019,Digital payments,Kirchberg Fintech S.A.,LU,Vientiane Pay,LA,fintech,380000.00,190000.00,2019-02-11,contracted,2019-03-01,190000.00,2019-04-01,B",
            "TST-2019-003,TST,Test call 2019,Cold chain,Solaris SAS,FR,Praia Frio,CV,logistics,610000.00,200000.00,2019-01-01,selected,2019-01-01,200000.00,,A",
            "TST-2020-001,TST,Test call 2020,Recycling tiles,Clervaux Circular S.à r.l.,LU,Pristina Recycle,XK,circular-economy,200000.00,100000.00,2020-02-01,submitted,,,,",
            "TST-2020-002,TST,Test call 2020,E-bikes,Alzette Mobility S.A.,LU,Managua Motos,NI,mobility,240000.00,120000.00,2020-02-02,rejected,2020-05-05,,,",
        ]
    )
    + "\n"
)


def write(tmp_path, content: str, name="history.csv", bom=False) -> str:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + content.encode("utf-8"))
    return str(path)


def counts(app) -> tuple[int, int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Proposal, StatusChange, Call, Programme)
        )


def test_a_file_imports_once_with_backdated_history(app, runner, tmp_path):
    path = write(tmp_path, FIXTURE, bom=True)
    first = runner.invoke(args=["import", "proposals", path])
    assert first.exit_code == 0, first.output
    assert (
        "Imported 8 proposal(s) (1 submitted, 2 rejected, 1 withdrawn, 2 selected, 2 contracted); 0 unchanged."
        in first.output
    )
    assert "New programme TST, first year 2018." in first.output
    assert "New call TST: Test call 2019." in first.output
    with app.app_context():
        programme = db.session.scalar(sa.select(Programme).where(Programme.code == "TST"))
        assert programme.first_year == 2018
        call = db.session.scalar(sa.select(Call).where(Call.title == "Test call 2019"))
        assert call.workflow_key == "bpf-single-stage" and call.imported and not call.is_open()
        assert call.opens_at.isoformat() == "2018-12-31T23:00:00+00:00"  # 1 January in Luxembourg
        contracted = db.session.scalar(
            sa.select(Proposal).where(Proposal.reference == "TST-2018-003")
        )
        history = [
            (r.to_status, r.created_at.date().isoformat(), r.imported)
            for r in db.session.scalars(
                sa.select(StatusChange)
                .where(StatusChange.proposal_id == contracted.id)
                .order_by(StatusChange.seq)
            )
        ]
        assert history == [
            ("submitted", "2018-03-05", True),
            ("selected", "2018-12-31", True),
            ("contracted", "2019-02-01", True),
        ]
        withdrawn = db.session.scalar(
            sa.select(Proposal).where(Proposal.reference == "TST-2019-001")
        )
        assert withdrawn.status == "withdrawn"
        assert contracted.sector.key == "healthtech" and contracted.partner_country == "ET"
        assert verify_chains().broken == []
    before = counts(app)

    again = runner.invoke(args=["import", "proposals", path])
    assert again.exit_code == 0
    assert (
        "Nothing to do: all 8 proposal(s) of this file are already in the tracker, unchanged."
        in again.output
    )
    assert counts(app) == before


def test_imported_proposals_appear_in_the_staff_queue(app, runner, tmp_path):
    runner.invoke(args=["import", "proposals", write(tmp_path, FIXTURE)])
    with app.app_context():
        f.staff("reviewer")
        db.session.commit()
    web = Web(app.test_client())
    web.login("reviewer@agency.lu")
    page = text(web.get("/review/proposals?q=TST-2019-002"))
    assert "1 proposals match." in page and "Digital payments" in page


BAD_LINES = [
    (
        "TST-9-1,TST,C,T,L,LU,P,SN,ict,abc,100.00,2020-01-01,submitted,,,,",
        "total_budget_eur",
        "is not an amount",
    ),
    (
        "TST-9-1,TST,C,T,L,LU,P,SN,ict,1000.00,100.005,2020-01-01,submitted,,,,",
        "requested_eur",
        "is not an amount",
    ),
    (
        "TST-9-1,TST,C,T,L,LU,P,SN,ict,1000.00,100.00,2020-13-01,submitted,,,,",
        "submitted_on",
        "is not a date",
    ),
    (
        "TST-9-1,TST,C,T,L,LU,P,SN,ict,1000.00,100.00,01/02/2020,submitted,,,,",
        "submitted_on",
        "is not a date",
    ),
    (
        "TST-9-1,TST,C,T,L,LUX,P,SN,ict,1000.00,100.00,2020-01-01,submitted,,,,",
        "lead_country",
        "not an ISO 3166-1",
    ),
    (
        "TST-9-1,TST,C,T,L,LU,P,ZZ,ict,1000.00,100.00,2020-01-01,submitted,,,,",
        "partner_country",
        "not an ISO 3166-1",
    ),
    (
        "TST-9-1,TST,C,T,L,LU,P,SN,ict,1000.00,100.00,2020-01-01,approved,,,,",
        "outcome",
        "is not one of",
    ),
    (
        "TST-9-1,TST,C,T,L,LU,P,SN,quantum,1000.00,100.00,2020-01-01,submitted,,,,",
        "sector",
        "unknown sector",
    ),
    (
        "TST-9-1,TST,C,T,L,LU,P,SN,ict,1000.00,100.00,2020-01-01,selected,,100.00,,",
        "decided_on",
        "is required when the outcome is selected",
    ),
    (
        "TST-9-1,TST,C,T,L,LU,P,SN,ict,1000.00,100.00,2020-01-01,selected,2020-02-01,,,",
        "granted_eur",
        "is required when the outcome is selected",
    ),
    (
        "TST-9-1,TST,C,T,L,LU,P,SN,ict,1000.00,100.00,2020-01-01,contracted,2020-02-01,100.00,,",
        "contracted_on",
        "is required when the outcome is contracted",
    ),
    (
        "TST-9-1,TST,C,T,L,LU,P,SN,ict,1000.00,100.00,2020-01-01,rejected,,,,",
        "decided_on",
        "is required when the outcome is rejected",
    ),
    (
        "TST-9-1,TST,C,T,L,LU,P,SN,ict,1000.00,1500.00,2020-01-01,submitted,,,,",
        "requested_eur",
        "more than the total budget",
    ),
    (
        "TST-9-1,TST,C,T,L,LU,P,SN,ict,1000.00,100.00,2020-01-01,selected,2020-02-01,1200.00,,",
        "granted_eur",
        "more than the total budget",
    ),
    (
        "TST-9-1,TST,C,T,L,LU,P,SN,ict,1000.00,100.00,2020-01-01,selected,2020-02-01,200.00,,",
        "granted_eur",
        "more than the amount requested",
    ),
    (
        "TST-9-1,TST,C,T,L,LU,P,SN,ict,1000.00,100.00,2020-01-01,selected,2019-12-01,100.00,,",
        "decided_on",
        "before the submission",
    ),
    (
        "TST-9-1,TST,C,T,L,LU,P,SN,ict,1000.00,100.00,2020-01-01,submitted,,,,X",
        "hrdd_category",
        "is not A, B, C",
    ),
    (",TST,C,T,L,LU,P,SN,ict,1000.00,100.00,2020-01-01,submitted,,,,", "reference", "is required"),
    (
        "TST-9-1,TST,C,T,L,LU,P,SN,ict,1000.00,100.00,2020-01-01,submitted",
        "",
        "values where the header has 17 columns",
    ),
]


@pytest.mark.parametrize(
    ("line", "field", "message"),
    BAD_LINES,
    ids=[f"{b[1] or 'shape'}-{i}" for i, b in enumerate(BAD_LINES)],
)
def test_each_kind_of_bad_row_is_named_and_nothing_is_written(
    app, runner, tmp_path, line, field, message
):
    good = FIXTURE.splitlines()[1]
    content = "\n".join([HEADER, good, line]) + "\n"
    before = counts(app)
    result = runner.invoke(args=["import", "proposals", write(tmp_path, content)])
    assert result.exit_code == 1
    where = f"line 3, {field}: " if field else "line 3: "
    assert where in result.output and message in result.output, result.output
    assert "Traceback" not in result.output
    assert "Nothing was imported" in result.output
    assert counts(app) == before


def test_every_error_is_listed_with_physical_line_numbers(app, runner, tmp_path):
    content = (
        "\n".join(
            [
                HEADER,
                'TST-1,TST,C,"A title that runs\nover two lines",L,LU,P,SN,ict,1000.00,100.00,2020-01-01,submitted,,,,',
                "TST-2,TST,C,T,L,LU,P,SN,ict,1000.00,100.00,2020-01-01,maybe,,,,",
                "",
                "TST-1,TST,C,T,L,LU,P,SN,ict,1000.00,100.00,2020-01-01,submitted,,,,",
                "TST-3,TST,C,T,L,LU,P,SN,nothing,xyz,100.00,2020-01-01,submitted,,,,",
            ]
        )
        + "\n"
    )
    result = runner.invoke(args=["import", "proposals", write(tmp_path, content)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("line ")]
    assert lines == [
        "line 4, outcome: “maybe” is not one of submitted, rejected, withdrawn, selected, contracted",
        "line 6, reference: “TST-1” is already on line 2 of this file",
        "line 7, sector: unknown sector “nothing”",
        "line 7, total_budget_eur: “xyz” is not an amount in euros such as 150000.00 (digits, a dot and at most two decimals)",
    ]
    assert counts(app)[0] == 0


def test_a_reference_already_there_with_other_data_is_an_error(app, runner, tmp_path):
    runner.invoke(args=["import", "proposals", write(tmp_path, FIXTURE)])
    changed = FIXTURE.replace("Solar kiosks", "Solar kiosks renamed")
    result = runner.invoke(args=["import", "proposals", write(tmp_path, changed, "changed.csv")])
    assert result.exit_code == 1
    assert (
        "line 2, reference: “TST-2018-001” is already in the tracker with different data"
        in result.output
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"reference,title\nX,Y\n", "missing column(s): programme, call"),
        ("\ufeff".join([HEADER + ",colour\n"]).encode(), "unknown column(s): colour"),
        (b"\xff\xfe\x00r\x00e", "is not UTF-8 text"),
    ],
)
def test_unreadable_files_are_refused_clearly(app, runner, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = runner.invoke(args=["import", "proposals", str(path)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_missing_file_is_an_error(runner, tmp_path):
    result = runner.invoke(args=["import", "proposals", str(tmp_path / "nope.csv")])
    assert result.exit_code == 1
    assert "does not exist" in result.output


def test_an_unknown_programme_gets_its_first_year_from_its_rows(ctx):
    plan = ops.plan_import(
        FIXTURE.replace("TST-2018-001,TST", "NEW-2017-001,NEW").replace(
            "2018-03-01,selected", "2017-03-01,selected"
        )
    )
    assert plan.ok, plan.errors
    assert plan.new_programmes == {"TST": 2018, "NEW": 2017}


def test_admins_import_through_the_web_with_a_preview(app, client):
    with app.app_context():
        f.staff("admin")
        f.staff("reviewer")
        db.session.commit()
    reviewer = Web(app.test_client())
    reviewer.login("reviewer@agency.lu")
    assert reviewer.get("/admin/import/").status_code == 403
    admin = Web(client)
    admin.login("admin@agency.lu")
    bad = admin.post(
        "/admin/import/",
        {"file": (io.BytesIO((FIXTURE + BAD_LINES[0][0] + "\n").encode()), "h.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422
    assert "line 10, total_budget_eur" in text(bad) and "nothing will be imported" in text(bad)
    preview = admin.post(
        "/admin/import/",
        {"file": (io.BytesIO(FIXTURE.encode()), "history.csv")},
        content_type="multipart/form-data",
    )
    page = text(preview)
    assert "8 proposals will be created" in page
    assert counts(app)[0] == 0  # nothing before confirming
    token = page.split('name="token" type="hidden" value="')[1].split('"')[0]
    digest = page.split('name="digest" type="hidden" value="')[1].split('"')[0]
    done = admin.post(
        "/admin/import/confirm", {"token": token, "digest": digest}, follow_redirects=True
    )
    assert "Imported 8 proposals" in text(done)
    assert counts(app)[0] == 8
    again = admin.post(
        "/admin/import/confirm", {"token": token, "digest": digest}, follow_redirects=True
    )
    assert "no longer available" in text(again)
    assert counts(app)[0] == 8


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_every_line_ending_is_read_and_quoted_line_breaks_stay_in_their_cell(newline):
    read, COLUMNS = ops.read, ops.COLUMNS

    text = (
        newline.join(
            [
                ",".join(COLUMNS),
                ",".join(f"a{i}" for i in range(len(COLUMNS))),
                '"two' + newline + 'lines",' + ",".join(f"b{i}" for i in range(1, len(COLUMNS))),
            ]
        )
        + newline
    )
    errors = []
    rows = list(read(text, errors))
    assert errors == []
    assert [line for line, _ in rows] == [2, 3]
    assert rows[1][1][COLUMNS[0]] == "two" + newline + "lines"
