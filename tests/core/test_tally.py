"""The database's own counts per call, sector and status (tracker.core.tally) agree with a count
of the proposals after every kind of change, and folding the ledger moves no count."""

from __future__ import annotations

import sqlalchemy as sa

from tests import factories as f
from tests.web import Web, text
from tracker.core import tally
from tracker.extensions import db
from tracker.programmes.models import Call
from tracker.proposals.models import Proposal
from tracker.workflow.definitions import states_in_group
from tracker.workflow.operations import perform_transition

HEADER = (
    "reference,programme,call,title,lead_organisation,lead_country,partner_organisation,"
    "partner_country,sector,total_budget_eur,requested_eur,submitted_on,outcome,decided_on,"
    "granted_eur,contracted_on,hrdd_category\n"
)


def counted(**where) -> dict[str, int]:
    """A plain grouped count of the proposals, every status (drafts too)."""
    query = sa.select(Proposal.status, sa.func.count()).group_by(Proposal.status)
    for column, value in where.items():
        query = query.where(getattr(Proposal, column).in_(value))
    return dict(db.session.execute(query).all())


def tallied(**where) -> dict[str, int]:
    return tally.counts(db.session.connection(), hidden=[], **where)


def agree(calls, sectors) -> None:
    assert tallied() == counted()
    for call_id in calls:
        assert tallied(calls=[call_id]) == counted(call_id=[call_id])
    for sector in sectors:
        assert tallied(sector=sector.id) == counted(sector_id=[sector.id])


def test_the_counts_follow_every_change_to_a_proposal(app):
    from tracker.imports import operations as import_ops

    with app.app_context():
        first, second = f.call(), f.call(code="SDG")
        owner = f.applicant()
        staff = f.staff("reviewer")
        ict, energy = f.sector("ict"), f.sector("renewable-energy")
        drafts = [f.draft(first, owner) for _ in range(3)]
        sent = [f.submitted(first, owner) for _ in range(3)]
        db.session.commit()
        agree([first.id, second.id], [ict, energy])

        perform_transition(sent[0], "start_screening", staff)  # a status
        sent[1].sector_id = energy.id  # a sector
        sent[2].call_id = second.id  # a call
        drafts[0].title = "Renamed"  # nothing counted changes
        db.session.commit()
        agree([first.id, second.id], [ict, energy])

        # A statement over several rows, and one the ORM does not see.
        db.session.execute(
            sa.update(Proposal).where(Proposal.id.in_([p.id for p in sent])).values(sector_id=None)
        )
        db.session.commit()
        plan = import_ops.plan_import(
            HEADER
            + "".join(
                f"TAL-2019-00{n},BPF,Call 2019,Imported {n},Lead S.A.,LU,Partner,VN,ict,"
                f"100000,50000,2019-03-01,{outcome},{decided},,,\n"
                for n, outcome, decided in (
                    (1, "submitted", ""),
                    (2, "rejected", "2019-06-01"),
                    (3, "rejected", "2019-06-01"),
                )
            )
        )
        assert plan.ok, plan.errors
        import_ops.execute(plan)
        db.session.commit()
        calls = list(db.session.scalars(sa.select(Call.id)))
        agree(calls, [ict, energy])
        assert counted()["rejected"] == 2

        # Rows copied in one statement, then removed (the tracker itself never deletes a
        # proposal with a history; these copies have none).
        columns = [c for c in Proposal.__table__.columns if c.name not in ("id", "reference")]
        copies = sa.select(*columns, (Proposal.reference + "-COPY").label("reference")).where(
            Proposal.call_id == first.id
        )
        db.session.execute(
            sa.insert(Proposal).from_select([c.name for c in columns] + ["reference"], copies)
        )
        db.session.commit()
        agree(calls, [ict, energy])
        db.session.execute(sa.delete(Proposal).where(Proposal.reference.like("%-COPY")))
        db.session.commit()
        agree(calls, [ict, energy])


def test_folding_the_ledger_keeps_every_count(app, monkeypatch):
    with app.app_context():
        call = f.call()
        owner = f.applicant()
        staff = f.staff("reviewer")
        for proposal in [f.submitted(call, owner) for _ in range(4)]:
            perform_transition(proposal, "start_screening", staff)
        db.session.commit()
        before = tallied()
        lines = db.session.scalar(sa.select(sa.func.count()).select_from(tally.StatusTally))
        assert lines > 4  # a line for each step of each proposal

        monkeypatch.setattr(tally, "FOLD_AFTER", 1)
        assert tallied() == before  # counted, then folded
        db.session.rollback()
        rows = db.session.execute(
            sa.select(tally.StatusTally.status, tally.StatusTally.delta)
        ).all()
        assert sorted(rows) == sorted(before.items())  # one line per status left, none at nought
        assert tallied() == before == counted()


def test_the_queue_tabs_read_the_databases_counts(app):
    """A line added to the ledger by hand shows in the tabs: they read it, not the table."""
    with app.app_context():
        call_id = f.call().id
        f.submitted(db.session.get(Call, call_id), f.applicant())
        f.staff("reviewer")
        db.session.commit()
        hidden = states_in_group("hidden_from_staff")
        assert "submitted" not in hidden
    web = Web(app.test_client())
    web.login("reviewer@agency.lu")
    assert "1 proposal" in text(web.get("/review/proposals?status=submitted"))
    with app.app_context():
        db.session.execute(
            sa.insert(tally.StatusTally).values(
                call_id=call_id, sector_id=None, status="submitted", delta=41
            )
        )
        f.staff("admin")  # a change the pages show: the counts are read again
        db.session.commit()
    assert "42 proposals" in text(web.get("/review/proposals?status=submitted"))
