"""The yearly selection report (DESIGN section 5): computed once, rendered in every format.

A proposal counts in the year of its transition into ``selected`` (the Luxembourg calendar
date of that history row); contracted ones count too, and so do ones withdrawn or cancelled
later, which are flagged. The running total counts from the programme's first year.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import aliased

from tracker.auth.models import Organisation
from tracker.core.db import CENT
from tracker.core.time import LUXEMBOURG
from tracker.extensions import db
from tracker.programmes.models import Call, Programme, Sector
from tracker.proposals.models import Partner, Proposal
from tracker.review.models import Contract, HrddAssessment
from tracker.workflow.definitions import get_workflow, states_in_group
from tracker.workflow.models import StatusChange

ZERO = Decimal("0.00")


class ReportError(Exception):
    """A report that cannot be made (unknown programme, a year out of range)."""


@dataclass
class SelectedProject:
    reference: str
    title: str
    lead_company: str
    lead_country: str | None
    partner: str | None
    partner_country: str | None
    sector_key: str | None
    sector_label: str | None
    total_cost_eur: Decimal | None
    granted_eur: Decimal | None
    hrdd_category: str | None
    clause_decision: str | None
    contract_status: str  # contracted, selected, in contracting, withdrawn later, cancelled later
    contracted_on: date | None
    selected_on: date
    later: str | None  # "withdrawn" or "cancelled" when that happened after the selection
    paid_eur: Decimal = ZERO  # paid to date
    state: str | None = None  # the workflow state now (implementation, closed...)


@dataclass
class Funnel:
    calls: list[str]
    submitted: int
    eligible: int
    preselected: int
    selected: int
    imported: bool = False  # imported history records outcomes only, not the stages in between

    def stages(self) -> list[tuple[str, int | None]]:
        """The funnel's stages with their counts; ``None`` where the records cannot tell (an
        imported call knows who was submitted and who was selected, not who was eligible)."""
        unknown = self.imported
        return [
            ("submitted", self.submitted),
            ("eligible", None if unknown else self.eligible),
            ("preselected", None if unknown else self.preselected),
            ("selected", self.selected),
        ]


@dataclass
class Disbursements:
    """What was paid in the year to the programme's projects, whatever year they were selected."""

    total_eur: Decimal = ZERO
    payments: int = 0
    projects: int = 0


@dataclass
class SelectionReport:
    programme_code: str
    programme_name: str
    year: int
    first_year: int
    projects: list[SelectedProject]
    selected_since_start: int
    per_year: list[tuple[int, int, int]]  # (year, selected, running total)
    funnel: Funnel
    by_sector: dict[str, int] = field(default_factory=dict)
    sector_labels: dict[str, str] = field(default_factory=dict)
    by_partner_country: dict[str, int] = field(default_factory=dict)
    by_lead_country: dict[str, int] = field(default_factory=dict)
    disbursements: Disbursements = field(default_factory=Disbursements)
    introduction: str = ""  # the programme's own words, set by an administrator
    method: str = ""

    @property
    def paid_to_selected(self) -> Decimal:
        return sum((p.paid_eur for p in self.projects), ZERO).quantize(CENT)

    @property
    def selected_in_year(self) -> int:
        return len(self.projects)

    @property
    def cofinancing_granted(self) -> Decimal:
        return sum((p.granted_eur or ZERO for p in self.projects), ZERO).quantize(CENT)

    @property
    def total_cost(self) -> Decimal:
        return sum((p.total_cost_eur or ZERO for p in self.projects), ZERO).quantize(CENT)

    @property
    def average_granted(self) -> Decimal | None:
        if not self.projects:
            return None
        return (self.cofinancing_granted / len(self.projects)).quantize(CENT)

    @property
    def share_of_cost(self) -> Decimal | None:
        """Co-financing granted as a percentage of the selected projects' total cost."""
        if not self.total_cost:
            return None
        return (self.cofinancing_granted * 100 / self.total_cost).quantize(Decimal("0.1"))

    @property
    def headline(self) -> str:
        """The sentence of the agency's annual report, in the reader's language."""
        name = self.programme_name
        named = name.lower().startswith("the ")
        # "under the Business Partnership Facility": the article (and in French or German the
        # whole phrase) belongs to the translation.
        under = _("under %(name)s", name=name) if named else _("under the %(name)s", name=name)
        n, total = self.selected_in_year, self.selected_since_start
        year, first = str(self.year), str(self.first_year)
        if self.year < self.first_year:
            if named:
                return _(
                    "%(name)s started in %(first)s; there were no selections in %(year)s.",
                    name=name,
                    first=first,
                    year=year,
                )
            return _(
                "The %(name)s started in %(first)s; there were no selections in %(year)s.",
                name=name,
                first=first,
                year=year,
            )
        if n == 0:
            if self.year > self.first_year:
                return _(
                    "In %(year)s, no project was selected %(under)s; the total since %(first)s "
                    "remains %(total)s.",
                    year=year,
                    under=under,
                    first=first,
                    total=total,
                )
            return _("In %(year)s, no project was selected %(under)s.", year=year, under=under)
        if self.year == self.first_year:
            return ngettext(
                "In %(year)s, %(num)d project was selected %(under)s, the first year of the "
                "facility.",
                "In %(year)s, %(num)d projects were selected %(under)s, the first year of the "
                "facility.",
                n,
                year=year,
                under=under,
            )
        return ngettext(
            "In %(year)s, %(num)d project was selected %(under)s, taking the total to %(total)s "
            "since %(first)s.",
            "In %(year)s, %(num)d projects were selected %(under)s, taking the total to "
            "%(total)s since %(first)s.",
            n,
            year=year,
            under=under,
            total=total,
            first=first,
        )

    def as_json(self) -> dict:
        """The machine-readable report (DESIGN section 6), amounts as two-decimal strings."""

        def money(value):
            return None if value is None else f"{value:.2f}"

        return {
            "programme": self.programme_code,
            "programme_name": self.programme_name,
            "year": self.year,
            "first_year": self.first_year,
            "selected_in_year": self.selected_in_year,
            "selected_since_start": self.selected_since_start,
            "headline": self.headline,
            "cofinancing_granted_eur": money(self.cofinancing_granted),
            "cofinancing_average_eur": money(self.average_granted),
            "total_cost_eur": money(self.total_cost),
            "cofinancing_share_percent": None
            if self.share_of_cost is None
            else f"{self.share_of_cost:.1f}",
            "by_sector": self.by_sector,
            "by_partner_country": self.by_partner_country,
            "by_lead_country": self.by_lead_country,
            "funnel": {
                "calls": self.funnel.calls,
                "submitted": self.funnel.submitted,
                "eligible": self.funnel.eligible,
                "preselected": self.funnel.preselected,
                "selected": self.funnel.selected,
                # False for imported calls: eligible and pre-selected are then not known.
                "stages_known": not self.funnel.imported,
            },
            "per_year": [{"year": y, "selected": n, "total": t} for y, n, t in self.per_year],
            "disbursed_in_year_eur": money(self.disbursements.total_eur),
            "disbursements": {
                "total_eur": money(self.disbursements.total_eur),
                "payments": self.disbursements.payments,
                "projects": self.disbursements.projects,
            },
            "paid_to_selected_eur": money(self.paid_to_selected),
            "projects": [
                {
                    "reference": p.reference,
                    "title": p.title,
                    "lead_organisation": p.lead_company,
                    "lead_country": p.lead_country,
                    "partner_organisation": p.partner,
                    "sector": p.sector_key,
                    "partner_country": p.partner_country,
                    "total_budget_eur": money(p.total_cost_eur),
                    "granted_eur": money(p.granted_eur),
                    "hrdd_category": p.hrdd_category,
                    "clause_decision": p.clause_decision,
                    "contract_status": p.contract_status,
                    "contracted_on": p.contracted_on.isoformat() if p.contracted_on else None,
                    "selected_on": p.selected_on.isoformat(),
                    "later": p.later,
                    "paid_eur": money(p.paid_eur),
                    "state": p.state,
                }
                for p in self.projects
            ],
        }


def programme_by_code(code: str) -> Programme:
    programme = db.session.scalar(
        sa.select(Programme).where(Programme.code == (code or "").strip().upper())
    )
    if programme is None:
        raise ReportError(f"There is no programme with the code “{code}”.")
    return programme


def selection_dates(programme: Programme) -> dict[int, date]:
    """Each selected proposal of the programme and the Luxembourg date it was first selected
    (read once per page: the report and its list of years both need them)."""
    from tracker.core.web import read_once

    return dict(
        read_once(("selection_dates", programme.id), lambda: _selection_dates(programme).items())
    )


def _selection_dates(programme: Programme) -> dict[int, date]:
    first = (
        sa.select(StatusChange.proposal_id, sa.func.min(StatusChange.created_at).label("at"))
        .join(Proposal, Proposal.id == StatusChange.proposal_id)
        .join(Call, Call.id == Proposal.call_id)
        .where(
            Call.programme_id == programme.id,
            StatusChange.to_status.in_(states_in_group("selected")),
            # A rejection undone is not a new selection.
            sa.or_(
                StatusChange.from_status.is_(None),
                StatusChange.from_status.not_in(states_in_group("rejected")),
            ),
        )
        .group_by(StatusChange.proposal_id)
    )
    return {
        proposal_id: at.astimezone(LUXEMBOURG).date()
        for proposal_id, at in db.session.execute(first)
    }


def selection_report(code: str, year: int) -> SelectionReport:
    """Compute every figure of the report for one programme and one year."""
    programme = programme_by_code(code)
    if not 1900 <= year <= 2200:
        raise ReportError(f"{year} is not a plausible year.")
    dates = selection_dates(programme)
    in_year = {pid: day for pid, day in dates.items() if day.year == year}
    counts = Counter(day.year for day in dates.values())
    # The report for a year stops at that year: the 2021 report is the same in 2026.
    per_year, running = [], 0
    for y in range(programme.first_year, year + 1):
        running += counts.get(y, 0)
        per_year.append((y, counts.get(y, 0), running))
    since_start = sum(n for y, n in counts.items() if programme.first_year <= y <= year)

    projects = _projects(in_year)
    report = SelectionReport(
        programme_code=programme.code,
        programme_name=programme.name,
        year=year,
        first_year=programme.first_year,
        projects=projects,
        selected_since_start=since_start,
        per_year=per_year,
        funnel=_funnel(programme, year),
        introduction=programme.report_introduction or "",
        method=programme.report_method or "",
    )
    report.by_sector = dict(Counter(p.sector_key or "unknown" for p in projects).most_common())
    report.sector_labels = {
        p.sector_key or "unknown": p.sector_label or "Unknown" for p in projects
    }
    report.by_partner_country = dict(
        Counter(p.partner_country or "??" for p in projects).most_common()
    )
    report.by_lead_country = dict(Counter(p.lead_country or "??" for p in projects).most_common())
    from tracker.projects.operations import disbursed_in

    total, payments, paid_projects = disbursed_in(
        programme.id, date(year, 1, 1), date(year, 12, 31)
    )
    report.disbursements = Disbursements(total, payments, paid_projects)
    return report


def _projects(selected_on: dict[int, date]) -> list[SelectedProject]:
    if not selected_on:
        return []
    ids = list(selected_on)
    local = aliased(Partner)
    first_local = (
        sa.select(Partner.id)
        .where(Partner.proposal_id == Proposal.id, Partner.is_local)
        .order_by(Partner.position, Partner.id)
        .limit(1)
        .correlate(Proposal)
        .scalar_subquery()
    )
    # One row per project with what the report shows of it (no ORM objects: a year of a large
    # facility is thousands of projects).
    proposals = db.session.execute(
        sa.select(
            Proposal.id,
            Proposal.reference,
            Proposal.title,
            Proposal.status,
            Proposal.lead_name,
            Proposal.lead_country,
            Proposal.partner_country,
            Proposal.total_cost_eur,
            Proposal.granted_eur,
            Organisation.name.label("organisation"),
            Sector.key.label("sector_key"),
            Sector.label.label("sector_label"),
            local.name.label("partner"),
            local.country.label("local_country"),
            HrddAssessment.risk_category,
            HrddAssessment.clause_decision,
            Contract.signed_at,
            Contract.agency_signed_on,
            Contract.company_signed_on,
        )
        .outerjoin(Organisation, Organisation.id == Proposal.organisation_id)
        .outerjoin(Sector, Sector.id == Proposal.sector_id)
        .outerjoin(local, local.id == first_local)
        .outerjoin(HrddAssessment, HrddAssessment.proposal_id == Proposal.id)
        .outerjoin(Contract, Contract.proposal_id == Proposal.id)
        .where(Proposal.id.in_(ids))
    ).all()
    contracted_states = states_in_group("contracted")
    signed_states = states_in_group("signed")
    withdrawn_states = states_in_group("withdrawn")
    ended_states = withdrawn_states | states_in_group("rejected")
    contracted_on: dict[int, date] = {}
    later: dict[int, str] = {}
    for pid, to_status, at in db.session.execute(
        sa.select(StatusChange.proposal_id, StatusChange.to_status, StatusChange.created_at)
        .where(
            StatusChange.proposal_id.in_(ids),
            StatusChange.to_status.in_(contracted_states | ended_states),
        )
        .order_by(StatusChange.proposal_id, StatusChange.seq)
    ):
        day = at.astimezone(LUXEMBOURG).date()
        if to_status in contracted_states:
            contracted_on[pid] = day
        elif day >= selected_on[pid]:
            later[pid] = "withdrawn" if to_status in withdrawn_states else "cancelled"
    from tracker.projects.operations import paid_by_proposal

    paid = paid_by_proposal(ids)
    projects = []
    contracting = states_in_group("contracting")
    for proposal in proposals:
        flag = later.get(proposal.id) if proposal.status in ended_states else None
        signed = proposal.status in signed_states
        if signed:
            status = "contracted"
        elif flag:
            status = f"{flag} after selection"
        elif proposal.status in contracting:
            status = "agreement in preparation"
        else:
            status = "selected, not yet contracted"
        signed_on = None
        if proposal.signed_at and proposal.agency_signed_on and proposal.company_signed_on:
            signed_on = max(proposal.agency_signed_on, proposal.company_signed_on)
        day = contracted_on.get(proposal.id) or signed_on
        projects.append(
            SelectedProject(
                reference=proposal.reference,
                title=proposal.title or "",
                lead_company=proposal.lead_name or proposal.organisation,
                lead_country=proposal.lead_country,
                partner=proposal.partner,
                partner_country=proposal.local_country
                if proposal.partner is not None
                else proposal.partner_country,
                sector_key=proposal.sector_key,
                sector_label=proposal.sector_label,
                total_cost_eur=proposal.total_cost_eur,
                granted_eur=proposal.granted_eur,
                hrdd_category=proposal.risk_category.value if proposal.risk_category else None,
                clause_decision=proposal.clause_decision.value
                if proposal.clause_decision
                else None,
                contract_status=status,
                contracted_on=day if signed or (flag and day) else None,
                selected_on=selected_on[proposal.id],
                later=flag,
                paid_eur=paid.get(proposal.id, ZERO),
                state=proposal.status,
            )
        )
    projects.sort(key=lambda p: (p.selected_on, p.reference))
    return projects


def _funnel(programme: Programme, year: int) -> Funnel:
    """Submitted, eligible, pre-selected and selected among the proposals of the year's calls.

    The year's calls are those whose deadline falls in the year (Luxembourg time). In a
    single-stage call there is no pre-selection: every eligible proposal goes on.
    """
    calls = [
        call
        for call in db.session.scalars(
            sa.select(Call)
            .where(Call.programme_id == programme.id)
            .order_by(sa.func.coalesce(Call.closes_at, Call.opens_at))
        )
        # A rolling call without an end belongs to the year it opened.
        if (call.closes_at or call.opens_at).astimezone(LUXEMBOURG).year == year
    ]
    if not calls:
        return Funnel([], 0, 0, 0, 0)
    ids = [c.id for c in calls]
    two_stage = {c.id for c in calls if get_workflow(c.workflow_key).two_stage}
    submitted = dict(
        db.session.execute(
            sa.select(Proposal.id, Proposal.call_id).where(
                Proposal.call_id.in_(ids), Proposal.submitted_at.is_not(None)
            )
        ).all()
    )
    reached: dict[int, set[str]] = {}
    for pid, to_status in db.session.execute(
        sa.select(StatusChange.proposal_id, StatusChange.to_status)
        .distinct()
        .join(Proposal, Proposal.id == StatusChange.proposal_id)
        .where(
            Proposal.call_id.in_(ids),
            StatusChange.to_status.in_(states_in_group("after_screening")),
        )
    ):
        reached.setdefault(pid, set()).add(to_status)
    eligible = [pid for pid in submitted if reached.get(pid)]
    preselected = [
        pid
        for pid in eligible
        if submitted[pid] not in two_stage or reached[pid] & states_in_group("preselected")
    ]
    chosen = states_in_group("selected") | states_in_group("signed")
    selected = [pid for pid in eligible if reached[pid] & chosen]
    return Funnel(
        [c.title for c in calls],
        len(submitted),
        len(eligible),
        len(preselected),
        len(selected),
        imported=any(c.imported for c in calls),
    )


def report_years(programme: Programme) -> list[int]:
    """The years a report can be asked for: from the first year to the latest selection or now."""
    from tracker.core.time import local_today

    dates = selection_dates(programme)
    last = max([local_today().year, *(d.year for d in dates.values())])
    return list(range(programme.first_year, last + 1))
