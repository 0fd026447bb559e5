"""The demo's BPF projects after their signature, each at another point of its course.

They go through the same workflow and the same rules as live proposals (screening, HRDD
review, scores, selection, agreement, signature, reports, conditions, payments), with the
agreements dated in the past so that reports fall due and conditions lapse.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from tracker.auth.models import User
from tracker.core.time import local_today, utcnow
from tracker.extensions import db
from tracker.programmes.models import Call, ClauseVersion, Programme, Sector
from tracker.programmes.rubrics import ensure_rubric
from tracker.workflow.definitions import BPF_SINGLE_STAGE

# company, e-mail, title, partner, country, total cost, sector, where the project is
PROJECTS = [
    (
        "Soltech Lux S.à r.l.",
        "soltech@demo.lu",
        "Solar pumps for smallholder irrigation",
        "AgriSol Senegal",
        "SN",
        "360000",
        "renewable-energy",
        "just_signed",
    ),
    (
        "Cloudbridge S.A.",
        "cloudbridge@demo.lu",
        "Cloud accounting for cooperatives",
        "Coop Digital Rwanda",
        "RW",
        "300000",
        "ict",
        "mid_term_paid",
    ),
    (
        "Aquaterra Lux S.A.",
        "aquaterra@demo.lu",
        "Water purification kiosks in the Mekong delta",
        "Mekong Clean Water",
        "VN",
        "380000",
        "cleantech",
        "condition_overdue",
    ),
    (
        "Terraverde S.à r.l.",
        "terraverde@demo.lu",
        "Compost from market waste",
        "GreenCycle Cabo Verde",
        "CV",
        "240000",
        "circular-economy",
        "grievance",
    ),
    (
        "Lumen Lux S.A.",
        "lumen@demo.lu",
        "Solar lanterns assembled in Vientiane",
        "Lao Light Works",
        "LA",
        "320000",
        "renewable-energy",
        "closed",
    ),
]

CONDITION = (
    "Adopt a written policy on working hours and overtime at the partner's site, with a "
    "grievance channel for workers, before the second payment."
)


def load_projects(people: dict[str, User]) -> None:
    """Five BPF projects: just signed, mid-term paid, a condition overdue, a grievance under
    review, closed with an underspend."""
    programme = db.session.scalar(sa.select(Programme).where(Programme.code == "BPF"))
    now = utcnow().replace(second=0, microsecond=0)
    sectors = list(db.session.scalars(sa.select(Sector).where(Sector.built_in.is_(True))))
    call = Call(
        programme=programme,
        title="BPF call 2024 (full proposals)",
        description="Full proposals for partnerships serving the Sustainable Development Goals.",
        workflow_key=BPF_SINGLE_STAGE,
        opens_at=now - timedelta(days=10),
        closes_at=now + timedelta(days=10),
        partner_countries=["SN", "RW", "VN", "CV", "LA"],
        cofinancing_rate=Decimal("50.00"),
        ceiling_eur=Decimal("200000.00"),
        road_haulage_ceiling_eur=Decimal("100000.00"),
        sectors=sectors,
    )
    db.session.add(call)
    ensure_rubric(call)
    db.session.flush()
    for row in PROJECTS:
        _project(call, people, *row)
    # The call took place in 2024: its dates say so once its proposals are in.
    call.opens_at = now.replace(year=2024, month=1, day=15)
    call.closes_at = now.replace(year=2024, month=4, day=30)


def _project(call, people, company, email, title, partner, country, total, sector_key, point):
    from tracker.demo_sgbc import fill_complete
    from tracker.projects import operations as project_ops
    from tracker.projects.models import (
        ConditionStatus,
        GrievanceCategory,
        GrievanceChannel,
        GrievanceSeverity,
        GrievanceStatus,
        ReportStatus,
    )
    from tracker.review import operations as review_ops
    from tracker.review.rules import MANUAL_SCREENING_ITEMS, SALIENT_RISKS
    from tracker.workflow.operations import perform_transition

    reviewer, second, hrdd, committee = (
        people["reviewer"],
        people["reviewer2"],
        people["hrdd"],
        people["committee"],
    )
    sector = db.session.scalar(sa.select(Sector).where(Sector.key == sector_key))
    user, proposal, requested = fill_complete(
        call, company, email, title, partner, country, Decimal(total), sector=sector
    )
    perform_transition(proposal, "submit", user)
    perform_transition(proposal, "start_screening", reviewer)
    review_ops.record_screening(
        proposal, reviewer, {key: (True, "") for key in MANUAL_SCREENING_ITEMS}
    )
    perform_transition(proposal, "pass_screening", reviewer)
    review_ops.save_hrdd_assessment(
        proposal,
        hrdd,
        {
            "exclusion_checked": True,
            "risk_category": "B",
            "clause_decision": "conditions",
            "conditions": [CONDITION],
            "risks": {
                key: (
                    key == "labour",
                    "medium" if key == "labour" else None,
                    "medium" if key == "labour" else None,
                    "",
                )
                for key in SALIENT_RISKS
            },
            "summary": "Assembly work at the partner's site: working hours to be framed.",
        },
    )
    perform_transition(proposal, "clear_hrdd", hrdd)
    criteria = [c.key for c in call.rubric.criteria]
    for scorer, mark in ((reviewer, 8), (second, 7)):
        review_ops.assign_reviewer(proposal, scorer, reviewer)
        review_ops.declare_conflict(proposal, scorer, False)
        review_ops.submit_score(proposal, scorer, dict.fromkeys(criteria, mark))
    perform_transition(proposal, "complete_evaluation", reviewer)
    review_ops.declare_conflict(proposal, committee, False)
    perform_transition(
        proposal, "select", committee, data={"granted_eur": requested}, comment="Selected."
    )
    perform_transition(proposal, "start_contracting", reviewer)
    today = local_today()
    start = {
        "just_signed": today - timedelta(days=10),
        "mid_term_paid": today - timedelta(days=450),
        "condition_overdue": today - timedelta(days=420),
        "grievance": today - timedelta(days=200),
        "closed": today - timedelta(days=820),
    }[point]
    end = start + timedelta(days=730)
    contract = review_ops.contract_for(proposal)
    review_ops.save_contract(
        contract,
        proposal,
        reviewer,
        {
            "number": f"{proposal.reference}-A",
            "granted_eur": requested,
            "start_date": start,
            "end_date": end,
            "clause_version": db.session.scalar(
                sa.select(ClauseVersion).order_by(ClauseVersion.number.desc()).limit(1)
            ),
            "conditions": list(contract.conditions),
            "agency_signed_on": start - timedelta(days=5),
            "company_signed_on": start - timedelta(days=3),
            "instalments": [(i.label, i.percent, i.amount_eur) for i in contract.instalments],
        },
    )
    perform_transition(proposal, "sign_contract", reviewer)
    if point == "just_signed":
        return
    perform_transition(proposal, "start_implementation", reviewer)

    def pay(position, amount=None, days_after=0):
        instalment = project_ops.load_project(proposal).contract.instalments[position - 1]
        project_ops.record_payment(
            proposal,
            instalment.id,
            reviewer,
            paid_on=min(start + timedelta(days=days_after), today),
            amount=amount or instalment.amount_eur,
            reference=f"LUX-{proposal.reference}-{position}",
        )

    def report(kind, content=None):
        item = project_ops.load_project(proposal).report(kind)
        body = content or project_ops.ReportContent(
            narrative=f"{title}: the site works; the partner's staff are trained.",
            jobs=6 if kind == "mid_term" else 13,
            beneficiaries=1200 if kind == "mid_term" else 3400,
            technology="Maintenance handbook translated; two engineers trained in Luxembourg.",
            expenses=Decimal(total) * (Decimal("0.45") if kind == "mid_term" else Decimal("0.97")),
            expenses_note="Equipment slightly cheaper than planned; travel as planned.",
            evidence={"1": "Policy adopted by the partner's board; posted at the site."},
            incidents="None.",
            grievances="One question from a worker on overtime pay, answered within a week.",
        )
        project_ops.submit_report(item, proposal, user, body)
        return item

    pay(1, days_after=5)
    if point == "grievance":
        project_ops.save_grievance(
            proposal,
            hrdd,
            {
                "received_on": today - timedelta(days=12),
                "channel": GrievanceChannel.partner,
                "anonymous": True,
                "category": GrievanceCategory.community,
                "severity": GrievanceSeverity.high,
                "description": "Neighbours of the compost site complain of smells and of trucks "
                "at night near the school.",
                "status": GrievanceStatus.under_review,
                "blocks_payment": True,
            },
        )
        return
    mid = report("mid_term")
    if point == "condition_overdue":
        project_ops.decide_report(mid, proposal, reviewer, ReportStatus.approved, "Thank you.")
        # The condition, due with the mid-term report, is still not met: tranche 2 waits.
        return
    project_ops.decide_report(
        mid, proposal, reviewer, ReportStatus.returned, "Add the timesheets of the partner's site."
    )
    report("mid_term")
    project_ops.decide_report(mid, proposal, reviewer, ReportStatus.approved, "Complete now.")
    condition = project_ops.load_project(proposal).conditions[0]
    project_ops.decide_condition(
        condition, proposal, hrdd, ConditionStatus.met, "Policy and timesheets checked on site."
    )
    pay(2, days_after=400)
    if point == "mid_term_paid":
        return
    final = report("final")
    project_ops.decide_report(final, proposal, reviewer, ReportStatus.approved, "Well done.")
    planned = project_ops.load_project(proposal).contract.instalments[2].amount_eur
    pay(3, amount=planned - Decimal("6500.00"), days_after=800)
    perform_transition(
        proposal,
        "close",
        reviewer,
        comment="Closed: the final tranche was reduced by the underspend on equipment.",
    )
