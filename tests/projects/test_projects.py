"""The project after signature: schedule, reports, conditions, payments, grievances, closure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests import factories as f
from tracker.core.time import LUXEMBOURG
from tracker.extensions import db
from tracker.projects import operations as ops
from tracker.projects.models import (
    ConditionStatus,
    GrievanceCategory,
    GrievanceChannel,
    GrievanceSeverity,
    GrievanceStatus,
    ReportStatus,
)
from tracker.workflow.history import verify_chains
from tracker.workflow.models import StatusChange
from tracker.workflow.operations import GuardFailed, perform_transition


@pytest.fixture
def people(ctx):
    return f.team()


@pytest.fixture
def project(people):
    proposal = f.signed_project(people)
    db.session.commit()
    return proposal


def tranche_states(proposal):
    return [t.status for t in ops.load_project(proposal).tranches()]


def test_the_signature_writes_the_reports_and_the_conditions(project):
    loaded = ops.load_project(project)
    contract = loaded.contract
    kinds = {r.kind.value: r for r in loaded.reports}
    assert set(kinds) == {"mid_term", "final"}
    start, end = contract.start_date, contract.end_date
    assert kinds["mid_term"].due_on == start + (end - start) / 2
    assert kinds["final"].due_on == end + timedelta(days=60)
    assert [c.text for c in loaded.conditions] == contract.conditions
    # The condition the mid-term tranche needs is due with the mid-term report.
    assert loaded.conditions[0].due_on == kinds["mid_term"].due_on
    assert contract.instalments[1].release_conditions == [1]
    assert tranche_states(project) == ["payable", "waiting", "waiting"]


def test_a_tranche_is_paid_only_once_released_and_never_above_the_grant(project, people):
    reviewer, hrdd, owner = people["reviewer"], people["hrdd"], project.created_by
    f.pay(project, 1, reviewer)
    db.session.commit()
    with pytest.raises(ops.ProjectError, match="already been paid"):
        f.pay(project, 1, reviewer)
    db.session.rollback()
    with pytest.raises(ops.ProjectError, match="cannot be paid yet") as refused:
        f.pay(project, 2, reviewer)
    assert any("mid-term report" in p for p in refused.value.problems)
    assert any("Condition 1" in p for p in refused.value.problems)
    db.session.rollback()

    f.submit_report(project, owner)
    f.approve_report(project, reviewer)
    db.session.commit()
    assert tranche_states(project)[1] == "waiting"  # the condition is still open
    f.meet_conditions(project, hrdd)
    db.session.commit()
    assert tranche_states(project)[1] == "payable"
    loaded = ops.load_project(project)
    with pytest.raises(ops.ProjectError, match="above what remains"):
        f.pay(project, 2, reviewer, amount=loaded.remaining + Decimal("0.01"))
    db.session.rollback()
    with pytest.raises(ops.ProjectError, match="future"):
        f.pay(project, 2, reviewer, paid_on=date.today() + timedelta(days=2))
    db.session.rollback()
    with pytest.raises(ops.ProjectError, match="role"):
        f.pay(project, 2, people["committee"])
    db.session.rollback()
    f.pay(project, 2, reviewer)
    db.session.commit()
    loaded = ops.load_project(project)
    assert loaded.paid == sum(i.amount_eur for i in loaded.contract.instalments[:2])
    assert loaded.paid + loaded.remaining == loaded.granted


def test_suspension_and_a_blocking_grievance_hold_payments(project, people):
    reviewer = people["reviewer"]
    perform_transition(project, "suspend", reviewer, comment="Audit pending.")
    db.session.commit()
    assert tranche_states(project)[0] == "blocked"
    with pytest.raises(ops.ProjectError):
        f.pay(project, 1, reviewer)
    db.session.rollback()
    perform_transition(project, "resume", reviewer, comment="Audit done.")
    grievance = ops.save_grievance(
        project,
        people["hrdd"],
        {
            "received_on": date.today(),
            "channel": GrievanceChannel.partner,
            "anonymous": True,
            "raised_by": "someone",
            "category": GrievanceCategory.labour,
            "severity": GrievanceSeverity.severe,
            "description": "Unpaid overtime at the plant.",
            "status": GrievanceStatus.received,
            "blocks_payment": True,
        },
    )
    db.session.commit()
    assert grievance.raised_by == ""  # anonymous: no name kept
    tranche = ops.load_project(project).tranches()[0]
    assert tranche.status == "blocked" and "grievance" in tranche.reasons[0]
    assert [g.id for g, _p in ops.open_grievances(None)] == [grievance.id]
    with pytest.raises(ops.ProjectError, match="response"):
        ops.save_grievance(
            project,
            people["hrdd"],
            {**_grievance_values(grievance), "status": GrievanceStatus.addressed},
            grievance,
        )
    db.session.rollback()
    ops.save_grievance(
        project,
        people["hrdd"],
        {
            **_grievance_values(grievance),
            "status": GrievanceStatus.addressed,
            "response": "Overtime paid; payroll audit agreed.",
        },
        grievance,
    )
    db.session.commit()
    assert tranche_states(project)[0] == "payable"
    assert ops.open_grievances(None) == []


def _grievance_values(grievance):
    return {
        "received_on": grievance.received_on,
        "channel": grievance.channel,
        "anonymous": grievance.anonymous,
        "category": grievance.category,
        "severity": grievance.severity,
        "description": grievance.description,
        "blocks_payment": grievance.blocks_payment,
    }


def test_a_report_is_returned_corrected_and_every_version_is_kept(project, people):
    owner, reviewer = project.created_by, people["reviewer"]
    report = f.report_of(project, "mid_term")
    with pytest.raises(ops.ProjectError) as incomplete:
        ops.submit_report(report, project, owner, ops.ReportContent(narrative=""))
    assert "Describe the progress of the project." in incomplete.value.problems
    assert "Give the evidence for HRDD condition 1." in incomplete.value.problems
    db.session.rollback()
    f.submit_report(project, owner, narrative="First try.")
    db.session.commit()
    with pytest.raises(ops.ProjectError, match="correct"):
        ops.decide_report(report, project, reviewer, ReportStatus.returned, "")
    db.session.rollback()
    ops.decide_report(
        report, project, reviewer, ReportStatus.returned, "Add the payroll.", "Weak on labour."
    )
    db.session.commit()
    assert report.status == ReportStatus.returned
    with pytest.raises(ops.ProjectError, match="Only the company"):
        f.submit_report(project, people["outsider"])
    db.session.rollback()
    f.submit_report(project, owner, narrative="Second try, with the payroll.")
    f.approve_report(project, reviewer)
    db.session.commit()
    db.session.refresh(report)
    assert [(v.number, v.decision) for v in report.versions] == [
        (1, ReportStatus.returned),
        (2, ReportStatus.approved),
    ]
    assert report.versions[0].content["narrative"] == "First try."
    assert report.versions[0].internal_note == "Weak on labour."
    assert report.status == ReportStatus.approved
    with pytest.raises(ops.ProjectError):
        ops.save_report(report, project, owner, ops.ReportContent(narrative="Changed after."))


def test_a_condition_is_overdue_from_midnight_in_luxembourg(project, people, monkeypatch):
    import tracker.core.time as clock

    condition = ops.load_project(project).conditions[0]
    condition.due_on = date(2026, 12, 1)
    db.session.commit()

    def overdue_at(moment):
        # The project's "today" is read from the clock, as pages and the portfolio read it.
        monkeypatch.setattr(clock, "utcnow", lambda: moment)
        return [c.id for c in ops.load_project(project).overdue_conditions]

    # Winter: Luxembourg is UTC+1, so its 2 December starts at 23:00 UTC on 1 December.
    assert overdue_at(datetime(2026, 12, 1, 22, 59, tzinfo=UTC)) == []
    assert overdue_at(datetime(2026, 12, 1, 23, 0, tzinfo=UTC)) == [condition.id]
    # Summer: UTC+2, midnight is 22:00 UTC the day before.
    condition.due_on = date(2026, 7, 1)
    db.session.commit()
    assert overdue_at(datetime(2026, 7, 1, 21, 59, tzinfo=UTC)) == []
    assert overdue_at(datetime(2026, 7, 1, 22, 0, tzinfo=UTC)) == [condition.id]
    monkeypatch.undo()
    with pytest.raises(ops.ProjectError, match="role"):
        ops.decide_condition(condition, project, people["reviewer"], ConditionStatus.waived, "x")
    db.session.rollback()
    ops.decide_condition(
        condition, project, people["hrdd"], ConditionStatus.waived, "Not relevant."
    )
    db.session.commit()
    assert not condition.overdue(date(2027, 1, 1))


def test_closure_needs_the_final_report_and_a_reason_for_an_unpaid_tranche(project, people):
    owner, reviewer, hrdd = project.created_by, people["reviewer"], people["hrdd"]
    with pytest.raises(GuardFailed) as refused:
        perform_transition(project, "close", reviewer)
    assert "The final report must be approved first." in refused.value.problems
    db.session.rollback()
    f.pay(project, 1, reviewer)
    f.submit_report(project, owner)
    f.approve_report(project, reviewer)
    f.meet_conditions(project, hrdd)
    f.pay(project, 2, reviewer)
    f.submit_report(project, owner, "final")
    f.approve_report(project, reviewer, "final")
    db.session.commit()
    with pytest.raises(GuardFailed, match="say why"):
        perform_transition(project, "close", reviewer)
    db.session.rollback()
    # The final tranche, lower than planned (an underspend), then the closure.
    planned = ops.load_project(project).contract.instalments[2].amount_eur
    f.pay(project, 3, reviewer, amount=planned - Decimal("5000.00"))
    perform_transition(project, "close", reviewer)
    db.session.commit()
    loaded = ops.load_project(project)
    assert loaded.ended and loaded.remaining == 0
    assert loaded.granted - loaded.paid == Decimal("5000.00")
    assert tranche_states(project) == ["paid", "paid", "paid"]
    assert verify_chains().broken == []


def test_termination_records_the_recovery_and_pays_nothing_more(project, people):
    reviewer, admin = people["reviewer"], people["admin"]
    f.pay(project, 1, reviewer)
    db.session.commit()
    with pytest.raises(GuardFailed, match="above what was paid"):
        perform_transition(
            project,
            "terminate",
            admin,
            comment="Breach of the clause.",
            data={"recover_eur": "999999.00"},
        )
    db.session.rollback()
    perform_transition(
        project, "terminate", admin, comment="Breach of the clause.", data={"recover_eur": "1000"}
    )
    db.session.commit()
    loaded = ops.load_project(project)
    assert loaded.contract.recovery_eur == Decimal("1000.00")
    assert tranche_states(project) == ["paid", "not_paid", "not_paid"]
    assert loaded.remaining == 0
    with pytest.raises(ops.ProjectError):
        f.pay(project, 2, reviewer)


def test_an_amendment_moves_the_final_report_and_keeps_the_grant_in_its_ceilings(project, people):
    reviewer = people["reviewer"]
    loaded = ops.load_project(project)
    granted = loaded.granted
    new_end = loaded.contract.end_date + timedelta(days=120)
    with pytest.raises(GuardFailed) as refused:
        perform_transition(
            project,
            "amend",
            reviewer,
            comment="More money.",
            data={"amended_eur": str(granted + 1)},
        )
    assert any("committee granted" in p for p in refused.value.problems), refused.value.problems
    db.session.rollback()
    perform_transition(
        project,
        "amend",
        reviewer,
        comment="Six months more and a smaller budget.",
        data={"end_date": new_end, "amended_eur": str(granted - Decimal("10000.00"))},
    )
    db.session.commit()
    loaded = ops.load_project(project)
    assert loaded.contract.end_date == new_end
    assert loaded.report("final").due_on == new_end + timedelta(days=60)
    assert loaded.granted == granted - Decimal("10000.00")
    assert sum(i.amount_eur for i in loaded.contract.instalments) == loaded.granted
    assert sum(i.percent for i in loaded.contract.instalments) == Decimal("100.00")
    assert project.status == "implementation"  # @same: it stays, with its history row
    last = db.session.scalar(
        sa.select(StatusChange)
        .where(StatusChange.proposal_id == project.id)
        .order_by(StatusChange.seq.desc())
        .limit(1)
    )
    assert last.transition == "amend" and "smaller budget" in last.comment
    # The budget: a lower total cost keeps the grant only within the call's rate.
    total = loaded.contract.total_cost_eur
    assert total == project.total_cost_eur
    with pytest.raises(GuardFailed) as refused:
        perform_transition(
            project,
            "amend",
            reviewer,
            comment="Halved budget.",
            data={"amended_total_eur": str(total / 4)},
        )
    assert any("At most" in p for p in refused.value.problems), refused.value.problems
    db.session.rollback()
    perform_transition(
        project,
        "amend",
        reviewer,
        comment="Equipment cheaper.",
        data={"amended_total_eur": str(total - Decimal("1000.00"))},
    )
    db.session.commit()
    assert ops.load_project(project).total_cost == total - Decimal("1000.00")


def test_the_portfolio_as_json_and_as_of_a_date(project, people):
    reviewer = people["reviewer"]
    f.pay(project, 1, reviewer, paid_on=date.today() - timedelta(days=0))
    db.session.commit()
    result = ops.portfolio_json(ops.portfolio(programme_code="BPF"))
    assert result["programme"] == "BPF"
    [line] = result["projects"]
    paid = ops.load_project(project).paid
    assert line["reference"] == project.reference
    assert line["state"] == "implementation"
    assert line["paid_eur"] == f"{paid:.2f}"
    assert Decimal(line["granted_eur"]) - Decimal(line["paid_eur"]) == Decimal(
        line["remaining_eur"]
    )
    assert line["next_report_due"] == f.report_of(project, "mid_term").due_on.isoformat()
    assert line["overdue_conditions"] == 0 and line["open_grievances"] == 0
    assert result["totals"]["paid_eur"] == line["paid_eur"]
    # Before the signature the project was not in the portfolio.
    earlier = ops.portfolio(as_of=date.today() - timedelta(days=1))
    assert earlier.lines == []
    # Far ahead, with the mid-term report still due, its condition is overdue.
    later = ops.portfolio(as_of=date.today() + timedelta(days=800))
    assert later.lines[0].overdue_conditions == 1


def test_reminders_before_and_after_a_due_date_are_sent_once(project, people, app):
    from tracker.notifications.models import Notification
    from tracker.projects.notices import project_reminders

    report = f.report_of(project, "mid_term")
    now = datetime.now(UTC)
    today = now.astimezone(LUXEMBOURG).date()
    report.due_on = today + timedelta(days=14)
    db.session.commit()
    written = project_reminders(now)
    db.session.commit()
    assert written >= 2  # the company and the member of staff who signed
    assert project_reminders(now) == 0
    report.due_on = today - timedelta(days=1)
    db.session.commit()
    assert project_reminders(now) >= 2
    db.session.commit()
    subjects = list(
        db.session.scalars(sa.select(Notification.subject).where(Notification.kind == "report_due"))
    )
    assert any("overdue" in s for s in subjects)


def test_the_demo_portfolio_shows_every_point_of_a_project(ctx):
    from tracker.demo import load_demo

    load_demo()
    result = ops.portfolio_json(ops.portfolio(programme_code="BPF"))
    followed = [p for p in result["projects"] if p["has_schedule"]]
    by_title = {p["title"]: p for p in followed}
    assert by_title["Solar pumps for smallholder irrigation"]["state"] == "contracted"
    paid = by_title["Cloud accounting for cooperatives"]
    assert paid["state"] == "implementation" and Decimal(paid["paid_eur"]) == Decimal(
        paid["granted_eur"]
    ) * Decimal("0.75")
    assert by_title["Water purification kiosks in the Mekong delta"]["overdue_conditions"] == 1
    assert by_title["Compost from market waste"]["open_grievances"] == 1
    closed = by_title["Solar lanterns assembled in Vientiane"]
    assert closed["state"] == "closed" and closed["remaining_eur"] == "0.00"
    assert Decimal(closed["granted_eur"]) - Decimal(closed["paid_eur"]) == Decimal("6500.00")
    # Agreements imported as history: contracted, without a schedule.
    imported = [p for p in result["projects"] if not p["has_schedule"]]
    assert imported and {p["state"] for p in imported} == {"contracted"}
    totals = result["totals"]
    assert Decimal(totals["paid_eur"]) == sum(Decimal(p["paid_eur"]) for p in result["projects"])
    assert verify_chains().broken == []


def test_staff_give_an_imported_agreement_its_schedule(people):

    proposal = f.signed_project(people)
    db.session.commit()
    # An agreement kept on paper: no contract, no schedule.
    contract = ops.load_project(proposal).contract
    for report in ops.load_project(proposal).reports:
        db.session.delete(report)
    for condition in ops.load_project(proposal).conditions:
        db.session.delete(condition)
    db.session.delete(contract)
    db.session.commit()
    assert ops.load_project(proposal).tranches() == []
    with pytest.raises(ops.ProjectError) as refused:
        ops.set_up_schedule(proposal, people["reviewer"], {"number": ""})
    assert "Give the agreement a number." in refused.value.problems
    db.session.rollback()
    ops.set_up_schedule(
        proposal,
        people["reviewer"],
        {
            "number": "BPF-2019-004-A",
            "start_date": date(2019, 9, 1),
            "end_date": date(2021, 8, 31),
            "signed_on": date(2019, 8, 20),
        },
    )
    db.session.commit()
    loaded = ops.load_project(proposal)
    assert [t.status for t in loaded.tranches()] == ["payable", "waiting", "waiting"]
    assert sum(i.amount_eur for i in loaded.contract.instalments) == loaded.granted
    assert {r.kind.value for r in loaded.reports} == {"mid_term", "final"}
    assert loaded.report("final").overdue(date.today())
    with pytest.raises(ops.ProjectError, match="already"):
        ops.set_up_schedule(proposal, people["reviewer"], {"number": "X"})
