"""The rules of a project after its signature (DESIGN section 9).

The reports schedule and the HRDD conditions are written when the agreement is signed; each
tranche says what releases it; a payment is recorded only once everything it depends on is
approved, met or waived, never above what remains of the grant, never while the project is
suspended, ended or held by a grievance. State changes (start, amend, suspend, resume,
terminate, close) are workflow transitions; their guards and effects are here.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from tracker.audit.models import AuditEntry
from tracker.audit.operations import plain, record_change
from tracker.auth.models import Role, User
from tracker.core.db import CENT
from tracker.core.time import LUXEMBOURG, local_today, utcnow
from tracker.extensions import db
from tracker.projects.models import (
    ConditionStatus,
    Grievance,
    GrievanceStatus,
    ProjectCondition,
    ProjectReport,
    ReportKind,
    ReportStatus,
    ReportVersion,
)
from tracker.proposals import eligibility
from tracker.proposals.models import Proposal
from tracker.review.models import Contract, PaymentInstalment
from tracker.workflow.operations import (
    ANY_VERSION,
    TransitionContext,
    check_version,
    effect,
    guard,
    workflow_for,
)

log = logging.getLogger(__name__)

ZERO = Decimal("0.00")
FINAL_REPORT_AFTER_END = timedelta(days=60)  # the final report is due two months after the end
CONDITIONS_AFTER_START = timedelta(days=90)  # conditions no tranche names are due in 3 months
REMIND_BEFORE = timedelta(days=14)

# What releases a tranche, as chosen on the agreement's form.
SIGNATURE = "signature"
RELEASES = (SIGNATURE, ReportKind.mid_term.value, ReportKind.final.value)

# Who records what: reviewers follow the project; the HRDD officer decides on conditions and
# grievances with them; only the HRDD officer or an administrator waives a condition.
FOLLOWERS = (Role.reviewer, Role.hrdd)
WAIVERS = (Role.hrdd,)


class ProjectError(Exception):
    """A project step that cannot be recorded; the message is for the person who tried."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []


def _require(actor: User, proposal: Proposal, *roles) -> None:
    if not actor.has_role_in(proposal.call.programme_id, Role.admin, *roles):
        raise ProjectError(_("Your role does not allow this."))


def _require_group(proposal: Proposal, group: str, message: str | None = None) -> None:
    if not workflow_for(proposal).in_group(proposal.status, group):
        raise ProjectError(message or _("This is not possible at the project's current stage."))


def _touch(proposal: Proposal) -> None:
    proposal.updated_at = utcnow()


def _flush_or_stale() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise ProjectError(
            _("Someone else changed this at the same moment. Nothing was saved; reload the page.")
        ) from None


# --- what a project holds ----------------------------------------------------------------------


@dataclass
class Project:
    """Everything a project page shows, loaded in a fixed number of queries."""

    proposal: Proposal
    contract: Contract | None
    reports: list[ProjectReport]
    conditions: list[ProjectCondition]
    grievances: list[Grievance]
    today: date

    @property
    def granted(self) -> Decimal:
        if self.contract and self.contract.granted_eur is not None:
            return self.contract.granted_eur
        return self.proposal.granted_eur or ZERO

    @property
    def total_cost(self) -> Decimal | None:
        if self.contract and self.contract.total_cost_eur is not None:
            return self.contract.total_cost_eur
        return self.proposal.total_cost_eur

    @property
    def paid(self) -> Decimal:
        if self.contract is None:
            return ZERO
        return sum((i.paid_eur for i in self.contract.instalments if i.paid), ZERO)

    @property
    def remaining(self) -> Decimal:
        if self.ended:
            return ZERO
        return max(self.granted - self.paid, ZERO)

    @property
    def ended(self) -> bool:
        return workflow_for(self.proposal).in_group(self.proposal.status, "project_ended")

    @property
    def open(self) -> bool:
        return workflow_for(self.proposal).in_group(self.proposal.status, "project_open")

    def report(self, kind: str) -> ProjectReport | None:
        return next((r for r in self.reports if r.kind.value == kind), None)

    def condition(self, position: int) -> ProjectCondition | None:
        return next((c for c in self.conditions if c.position == position), None)

    @property
    def overdue_conditions(self) -> list[ProjectCondition]:
        return [c for c in self.conditions if c.overdue(self.today)]

    @property
    def open_grievances(self) -> list[Grievance]:
        return [g for g in self.grievances if g.is_open]

    @property
    def blocking_grievances(self) -> list[Grievance]:
        return [g for g in self.grievances if g.blocking]

    @property
    def next_report(self) -> ProjectReport | None:
        waiting = [r for r in self.reports if r.open]
        return min(waiting, key=lambda r: r.due_on) if waiting else None

    def tranches(self) -> list[Tranche]:
        if self.contract is None:
            return []
        return [tranche_of(self, i) for i in self.contract.instalments]

    def conditions_due_by(self, day: date) -> list[ProjectCondition]:
        """The conditions a report due on this day reports on (open ones due by then)."""
        return [c for c in self.conditions if not c.settled and c.due_on <= day]


def load_project(proposal: Proposal, today: date | None = None) -> Project:
    from tracker.review.operations import contract_for

    pid = proposal.id
    return Project(
        proposal=proposal,
        contract=contract_for(proposal),
        reports=list(
            db.session.scalars(
                sa.select(ProjectReport)
                .where(ProjectReport.proposal_id == pid)
                .options(
                    sa.orm.selectinload(ProjectReport.versions),
                    sa.orm.selectinload(ProjectReport.documents),
                )
                .order_by(ProjectReport.due_on, ProjectReport.id)
            )
        ),
        conditions=list(
            db.session.scalars(
                sa.select(ProjectCondition)
                .where(ProjectCondition.proposal_id == pid)
                .order_by(ProjectCondition.position)
            )
        ),
        grievances=list(
            db.session.scalars(
                sa.select(Grievance)
                .where(Grievance.proposal_id == pid)
                .order_by(Grievance.received_on.desc(), Grievance.id.desc())
            )
        ),
        today=today or local_today(),
    )


# --- tranches ----------------------------------------------------------------------------------


class TrancheStatus:
    paid = "paid"
    payable = "payable"
    waiting = "waiting"
    blocked = "blocked"
    not_paid = "not_paid"  # the project ended before it was released or paid


TRANCHE_CSS = {
    TrancheStatus.paid: "success",
    TrancheStatus.payable: "primary",
    TrancheStatus.waiting: "secondary",
    TrancheStatus.blocked: "warning",
    TrancheStatus.not_paid: "dark",
}


@dataclass
class Tranche:
    instalment: PaymentInstalment
    status: str
    reasons: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return {
            TrancheStatus.paid: _("Paid"),
            TrancheStatus.payable: _("Payable"),
            TrancheStatus.waiting: _("Waiting"),
            TrancheStatus.blocked: _("Blocked"),
            TrancheStatus.not_paid: _("Not paid"),
        }[self.status]

    @property
    def css_class(self) -> str:
        return TRANCHE_CSS[self.status]


def release_problems(project: Project, instalment: PaymentInstalment) -> list[str]:
    """What the tranche still waits for (its own releases only)."""
    problems = []
    if instalment.release_at_signature and not (project.contract and project.contract.signed):
        problems.append(_("The agreement is not signed."))
    if instalment.release_report:
        report = project.report(instalment.release_report)
        if report is None or report.status != ReportStatus.approved:
            problems.append(
                _(
                    "The %(report)s is not approved.",
                    report=ReportKind(instalment.release_report).phrase,
                )
            )
    for position in instalment.release_conditions or []:
        condition = project.condition(position)
        if condition is None or not condition.settled:
            problems.append(_("Condition %(n)s is not met or waived.", n=position))
    return problems


def tranche_of(project: Project, instalment: PaymentInstalment) -> Tranche:
    if instalment.paid:
        return Tranche(instalment, TrancheStatus.paid)
    if project.ended:
        return Tranche(instalment, TrancheStatus.not_paid, [_("The project has ended.")])
    waiting = release_problems(project, instalment)
    if waiting:
        return Tranche(instalment, TrancheStatus.waiting, waiting)
    blocked = []
    if not workflow_for(project.proposal).in_group(project.proposal.status, "payable"):
        blocked.append(_("Payments are blocked while the project is suspended."))
    for grievance in project.blocking_grievances:
        blocked.append(
            _(
                "A grievance received on %(day)s holds payments until it is addressed.",
                day=grievance.received_on.isoformat(),
            )
        )
    if blocked:
        return Tranche(instalment, TrancheStatus.blocked, blocked)
    return Tranche(instalment, TrancheStatus.payable)


def record_payment(
    proposal: Proposal,
    instalment_id: int,
    actor: User,
    *,
    paid_on: date,
    amount: Decimal,
    reference: str,
    expected_version=ANY_VERSION,
    today: date | None = None,
) -> PaymentInstalment:
    """Record that a released tranche was paid: at most what remains of the grant."""
    _require(actor, proposal, Role.reviewer)
    check_version(proposal, expected_version)
    today = today or local_today()
    # The agreement row is locked (and its version moved) so two payments never pass together.
    contract = db.session.scalar(
        sa.select(Contract).where(Contract.proposal_id == proposal.id).with_for_update()
    )
    if contract is None:
        raise ProjectError(_("This project has no payment schedule."))
    project = load_project(proposal, today)
    instalment = next((i for i in contract.instalments if i.id == instalment_id), None)
    if instalment is None:
        raise ProjectError(_("This tranche is not part of the agreement."))
    tranche = tranche_of(project, instalment)
    if tranche.status == TrancheStatus.paid:
        raise ProjectError(_("This tranche has already been paid."))
    if tranche.status != TrancheStatus.payable:
        raise ProjectError(_("This tranche cannot be paid yet."), tranche.reasons)
    problems = []
    reference = (reference or "").strip()
    if amount is None or amount <= 0:
        problems.append(_("Enter the amount paid."))
    elif amount > project.remaining:
        problems.append(
            _(
                "The amount is above what remains of the grant (%(left)s).",
                left=eligibility.euros(project.remaining),
            )
        )
    if paid_on is None:
        problems.append(_("Enter the date of the payment."))
    elif paid_on > today:
        problems.append(_("The payment date is in the future."))
    elif contract.signed_on and paid_on < contract.signed_on:
        problems.append(_("The payment date is before the signature."))
    if not reference:
        problems.append(_("Enter the payment reference."))
    if problems:
        raise ProjectError(problems[0], problems)
    before = _payment_snapshot(instalment)
    instalment.paid_on = paid_on
    instalment.paid_eur = Decimal(amount).quantize(CENT)
    instalment.payment_reference = reference[:100]
    instalment.paid_by_id = actor.id
    instalment.paid_at = utcnow()
    contract.updated_at = utcnow()
    record_change(
        "payment",
        instalment.id,
        actor=actor,
        before=before,
        after=_payment_snapshot(instalment),
        proposal=proposal,
    )
    _touch(proposal)
    _flush_or_stale()
    log.info("proposal %s: tranche %s paid %s", proposal.id, instalment.position, amount)
    return instalment


def _payment_snapshot(instalment: PaymentInstalment) -> dict:
    return {
        "label": plain(instalment.label),
        "planned_eur": plain(instalment.amount_eur),
        "paid_on": plain(instalment.paid_on),
        "paid_eur": plain(instalment.paid_eur),
        "payment_reference": plain(instalment.payment_reference),
    }


# --- the schedule, written at signature --------------------------------------------------------


def default_releases(position: int, count: int) -> tuple[bool, str | None, bool]:
    """The BPF default: the first at signature, the second on the approved mid-term report
    with the HRDD conditions, the last on the approved final report."""
    if position == 1:
        return True, None, False
    if position == count:
        return False, ReportKind.final.value, False
    return False, ReportKind.mid_term.value, position == 2


def open_project(proposal: Proposal, contract: Contract, actor: User | None) -> None:
    """At signature: the reports and conditions the agreement names, with their due dates."""
    contract.responsible_id = getattr(actor, "id", None)
    start, end = contract.start_date, contract.end_date
    kinds = {i.release_report for i in contract.instalments if i.release_report}
    kinds.add(ReportKind.final.value)
    due = {
        ReportKind.mid_term.value: start + (end - start) / 2,
        ReportKind.final.value: end + FINAL_REPORT_AFTER_END,
    }
    for kind in (ReportKind.mid_term.value, ReportKind.final.value):
        if kind in kinds:
            db.session.add(
                ProjectReport(
                    proposal_id=proposal.id,
                    kind=ReportKind(kind),
                    title=str(ReportKind(kind).title),
                    due_on=due[kind],
                    status=ReportStatus.due,
                    content={},
                )
            )
    # A condition a tranche needs is due with the report that releases that tranche.
    needed_by: dict[int, date] = {}
    for instalment in contract.instalments:
        day = due.get(instalment.release_report or "", start + CONDITIONS_AFTER_START)
        for position in instalment.release_conditions or []:
            needed_by[position] = min(day, needed_by.get(position, day))
    for position, text in enumerate(contract.conditions or [], start=1):
        db.session.add(
            ProjectCondition(
                proposal_id=proposal.id,
                position=position,
                text=text,
                due_on=needed_by.get(position, start + CONDITIONS_AFTER_START),
            )
        )
    db.session.flush()


def set_up_schedule(proposal: Proposal, actor: User, data: dict) -> Contract:
    """An agreement signed before the tracker (imported history): record it and its schedule."""
    from tracker.review.operations import contract_for, contract_snapshot
    from tracker.review.rules import DEFAULT_SCHEDULE

    _require(actor, proposal, Role.reviewer)
    _require_group(proposal, "project_open")
    if contract_for(proposal) is not None:
        raise ProjectError(_("This project already has its agreement and schedule."))
    problems = []
    number = (data.get("number") or "").strip()
    start, end = data.get("start_date"), data.get("end_date")
    signed_on = data.get("signed_on")
    granted = proposal.granted_eur
    if not number:
        problems.append(_("Give the agreement a number."))
    elif db.session.scalar(sa.select(Contract.id).where(Contract.number == number)):
        problems.append(_("Another agreement has this number."))
    if start is None or end is None:
        problems.append(_("Enter the start and end dates."))
    elif end <= start:
        problems.append(_("The agreement must end after it starts."))
    if signed_on is None:
        problems.append(_("Enter the date of the signature."))
    if not granted:
        problems.append(_("The proposal has no granted amount."))
    if problems:
        raise ProjectError(problems[0], problems)
    contract = Contract(
        proposal_id=proposal.id,
        number=number,
        granted_eur=granted,
        total_cost_eur=proposal.total_cost_eur,
        start_date=start,
        end_date=end,
        clause_text=_("Signed before the tracker was used: the clause is kept on paper."),
        conditions=[],
        agency_signed_on=signed_on,
        company_signed_on=signed_on,
        signed_at=utcnow(),
    )
    count = len(DEFAULT_SCHEDULE)
    for position, (label, percent) in enumerate(DEFAULT_SCHEDULE, start=1):
        at_signature, report, _conditions = default_releases(position, count)
        contract.instalments.append(
            PaymentInstalment(
                position=position,
                label=str(label),
                percent=percent,
                amount_eur=(granted * percent / 100).quantize(CENT),
                release_at_signature=at_signature,
                release_report=report,
                release_conditions=[],
            )
        )
    contract.instalments[-1].amount_eur += granted - sum(i.amount_eur for i in contract.instalments)
    db.session.add(contract)
    db.session.flush()
    open_project(proposal, contract, actor)
    record_change(
        "contract",
        contract.id,
        actor=actor,
        before=None,
        after=contract_snapshot(contract),
        proposal=proposal,
    )
    _touch(proposal)
    return contract


def change_due_date(
    proposal: Proposal, obj, actor: User, new_date: date, reason: str, expected_version=ANY_VERSION
) -> None:
    """Move the due date of a report or a condition still open (an amendment), with a reason."""
    _require(actor, proposal, *FOLLOWERS)
    _require_group(proposal, "project_open")
    check_version(proposal, expected_version)
    if obj.proposal_id != proposal.id:
        raise ProjectError(_("This is not part of this project."))
    if isinstance(obj, ProjectReport) and not obj.open:
        raise ProjectError(_("The report has been submitted: its due date no longer changes."))
    if isinstance(obj, ProjectCondition) and obj.settled:
        raise ProjectError(_("The condition is settled: its due date no longer changes."))
    if new_date is None:
        raise ProjectError(_("Enter the new due date."))
    if not (reason or "").strip():
        raise ProjectError(_("Say why the due date changes."))
    kind = "report" if isinstance(obj, ProjectReport) else "condition"
    before = {"due_on": plain(obj.due_on), "reason": None}
    obj.due_on = new_date
    record_change(
        kind,
        obj.id,
        actor=actor,
        before=before,
        after={"due_on": plain(new_date), "reason": reason.strip()},
        proposal=proposal,
    )
    _touch(proposal)


# --- reports -----------------------------------------------------------------------------------


@dataclass
class ReportContent:
    """A report as the company writes it (stored as JSON on the draft and on each version)."""

    narrative: str = ""
    jobs: int | None = None
    beneficiaries: int | None = None
    technology: str = ""
    expenses: Decimal | None = None
    expenses_note: str = ""
    evidence: dict[str, str] = field(default_factory=dict)  # condition number -> evidence
    incidents: str = ""
    grievances: str = ""

    @classmethod
    def from_json(cls, data: dict | None) -> ReportContent:
        data = data or {}
        expenses = data.get("expenses")
        try:
            expenses = Decimal(expenses) if expenses not in (None, "") else None
        except InvalidOperation:
            expenses = None
        return cls(
            narrative=data.get("narrative", ""),
            jobs=data.get("jobs"),
            beneficiaries=data.get("beneficiaries"),
            technology=data.get("technology", ""),
            expenses=expenses,
            expenses_note=data.get("expenses_note", ""),
            evidence={str(k): v for k, v in (data.get("evidence") or {}).items()},
            incidents=data.get("incidents", ""),
            grievances=data.get("grievances", ""),
        )

    def to_json(self) -> dict:
        return {
            "narrative": self.narrative.strip(),
            "jobs": self.jobs,
            "beneficiaries": self.beneficiaries,
            "technology": self.technology.strip(),
            "expenses": f"{self.expenses:.2f}" if self.expenses is not None else None,
            "expenses_note": self.expenses_note.strip(),
            "evidence": {k: v.strip() for k, v in self.evidence.items() if v and v.strip()},
            "incidents": self.incidents.strip(),
            "grievances": self.grievances.strip(),
        }


def _require_member(actor: User, proposal: Proposal) -> None:
    if not (actor.has_role(Role.applicant) and actor.organisation_id == proposal.organisation_id):
        raise ProjectError(_("Only the company's own people can write its reports."))


def _check_report_version(report: ProjectReport, expected) -> None:
    if expected is ANY_VERSION:
        return
    if expected is None or int(expected) != report.version:
        raise ProjectError(
            _(
                "This report was changed after you opened the page. Nothing was saved; "
                "reload the page and type your change again."
            )
        )


def save_report(
    report: ProjectReport,
    proposal: Proposal,
    actor: User,
    content: ReportContent,
    expected_version=ANY_VERSION,
) -> None:
    """Keep the company's draft (nothing is checked yet but the numbers' form)."""
    _require_member(actor, proposal)
    _require_group(proposal, "project_open")
    if not report.open:
        raise ProjectError(_("The report has been submitted and is being reviewed."))
    _check_report_version(report, expected_version)
    report.content = content.to_json()
    if report.status == ReportStatus.due:
        report.status = ReportStatus.draft
    report.updated_at = utcnow()
    _flush_or_stale()


def report_problems(project: Project, report: ProjectReport, content: ReportContent) -> list[str]:
    """What a report needs before it can be submitted."""
    problems = []
    if not content.narrative.strip():
        problems.append(_("Describe the progress of the project."))
    if content.expenses is None:
        problems.append(_("Enter the expenses incurred so far."))
    for condition in project.conditions_due_by(report.due_on):
        if not content.evidence.get(str(condition.position), "").strip():
            problems.append(_("Give the evidence for HRDD condition %(n)s.", n=condition.position))
    return problems


def submit_report(
    report: ProjectReport,
    proposal: Proposal,
    actor: User,
    content: ReportContent,
    expected_version=ANY_VERSION,
) -> ReportVersion:
    """Submit the report: a new version, kept as submitted, and the agency is told."""
    save_report(report, proposal, actor, content, expected_version)
    project = load_project(proposal)
    problems = report_problems(project, report, content)
    if problems:
        raise ProjectError(_("The report is not complete yet."), problems)
    number = len(report.versions) + 1
    body = report.content
    version = ReportVersion(
        report_id=report.id,
        number=number,
        content=body,
        checksum=hashlib.sha256(
            json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")
        ).hexdigest(),
        submitted_by_id=actor.id,
        submitted_at=utcnow(),
    )
    report.versions.append(version)
    report.status = ReportStatus.submitted
    report.updated_at = utcnow()
    record_change(
        "report",
        report.id,
        actor=actor,
        before={"status": ReportStatus.draft.value, "submitted_version": None},
        after={"status": ReportStatus.submitted.value, "submitted_version": str(number)},
        proposal=proposal,
    )
    _touch(proposal)
    _flush_or_stale()
    from tracker.projects.notices import tell_report_submitted

    tell_report_submitted(project, report, version)
    return version


def decide_report(
    report: ProjectReport,
    proposal: Proposal,
    actor: User,
    decision: ReportStatus,
    comment: str,
    note: str = "",
    expected_version=ANY_VERSION,
) -> ReportVersion:
    """Approve the submitted report, or return it with comments for the company."""
    _require(actor, proposal, *FOLLOWERS)
    _require_group(proposal, "project_open")
    _check_report_version(report, expected_version)
    if report.status != ReportStatus.submitted or not report.versions:
        raise ProjectError(_("There is no submitted report to decide on."))
    if decision not in (ReportStatus.approved, ReportStatus.returned):
        raise ProjectError(_("Choose whether to approve or to return the report."))
    comment = (comment or "").strip()
    if decision == ReportStatus.returned and not comment:
        raise ProjectError(
            _("Say what the company must correct."), [_("Say what the company must correct.")]
        )
    version = report.versions[-1]
    version.decision = decision
    version.comment = comment
    version.internal_note = (note or "").strip()
    version.decided_by_id = actor.id
    version.decided_at = utcnow()
    report.status = decision
    report.updated_at = utcnow()
    record_change(
        "report",
        report.id,
        actor=actor,
        before={"status": ReportStatus.submitted.value, "decision": None},
        after={
            "status": decision.value,
            "decision": f"{decision.value} (version {version.number})",
        },
        proposal=proposal,
    )
    _touch(proposal)
    _flush_or_stale()
    from tracker.projects.notices import tell_report_decided

    tell_report_decided(proposal, report, version)
    return version


# --- conditions --------------------------------------------------------------------------------


def decide_condition(
    condition: ProjectCondition,
    proposal: Proposal,
    actor: User,
    status: ConditionStatus,
    text: str,
    expected_version=ANY_VERSION,
) -> None:
    """Mark a condition met (with the evidence verified) or waived (with the reason)."""
    if condition.proposal_id != proposal.id:
        raise ProjectError(_("This condition is not part of this project."))
    _require_group(proposal, "project_open")
    check_version(proposal, expected_version)
    if status == ConditionStatus.waived:
        _require(actor, proposal, *WAIVERS)
    elif status == ConditionStatus.met:
        _require(actor, proposal, *FOLLOWERS)
    else:
        raise ProjectError(_("Choose whether the condition is met or waived."))
    if condition.settled:
        raise ProjectError(_("This condition has already been decided."))
    text = (text or "").strip()
    if not text:
        message = (
            _("Describe the evidence you verified.")
            if status == ConditionStatus.met
            else _("Give the reason for the waiver.")
        )
        raise ProjectError(message, [message])
    before = {"status": condition.status.value, "evidence": None, "reason": None}
    condition.status = status
    if status == ConditionStatus.met:
        condition.evidence = text
    else:
        condition.reason = text
    condition.decided_by_id = actor.id
    condition.decided_at = utcnow()
    record_change(
        "condition",
        condition.id,
        actor=actor,
        before=before,
        after={
            "status": status.value,
            "evidence": plain(condition.evidence),
            "reason": plain(condition.reason),
        },
        proposal=proposal,
    )
    _touch(proposal)


# --- grievances --------------------------------------------------------------------------------

GRIEVANCE_FIELDS = (
    "received_on",
    "channel",
    "raised_by",
    "anonymous",
    "category",
    "severity",
    "description",
    "response",
    "remediation",
    "status",
    "blocks_payment",
)


def _grievance_snapshot(grievance: Grievance) -> dict:
    values = {name: plain(getattr(grievance, name)) for name in GRIEVANCE_FIELDS}
    values["closed_on"] = plain(grievance.closed_on)
    return values


def save_grievance(
    proposal: Proposal,
    actor: User,
    data: dict,
    grievance: Grievance | None = None,
    expected_version=ANY_VERSION,
    today: date | None = None,
) -> Grievance:
    """Log a grievance, or record its review, response and remediation."""
    _require(actor, proposal, *FOLLOWERS)
    _require_group(proposal, "signed")
    today = today or local_today()
    if grievance is not None:
        if grievance.proposal_id != proposal.id:
            raise ProjectError(_("This grievance is not part of this project."))
        if expected_version is not ANY_VERSION and (
            expected_version is None or int(expected_version) != grievance.version
        ):
            raise ProjectError(
                _("This grievance was changed after you opened the page. Nothing was saved.")
            )
    problems = []
    if data.get("received_on") is None:
        problems.append(_("Enter the date it was received."))
    elif data["received_on"] > today:
        problems.append(_("The date received is in the future."))
    if not (data.get("description") or "").strip():
        problems.append(_("Describe the grievance."))
    status = data.get("status") or GrievanceStatus.received
    if (
        status in (GrievanceStatus.addressed, GrievanceStatus.closed)
        and not (data.get("response") or "").strip()
    ):
        problems.append(_("Record the response before the grievance is addressed or closed."))
    if problems:
        raise ProjectError(problems[0], problems)
    before = _grievance_snapshot(grievance) if grievance is not None else None
    if grievance is None:
        grievance = Grievance(proposal_id=proposal.id, recorded_by_id=actor.id)
        db.session.add(grievance)
    anonymous = bool(data.get("anonymous"))
    grievance.received_on = data["received_on"]
    grievance.channel = data["channel"]
    grievance.anonymous = anonymous
    grievance.raised_by = "" if anonymous else (data.get("raised_by") or "").strip()[:200]
    grievance.category = data["category"]
    grievance.severity = data["severity"]
    grievance.description = data["description"].strip()
    grievance.response = (data.get("response") or "").strip()
    grievance.remediation = (data.get("remediation") or "").strip()
    grievance.status = status
    grievance.blocks_payment = bool(data.get("blocks_payment"))
    if status == GrievanceStatus.closed and grievance.closed_on is None:
        grievance.closed_on = today
    elif status != GrievanceStatus.closed:
        grievance.closed_on = None
    grievance.updated_at = utcnow()
    _flush_or_stale()
    record_change(
        "grievance",
        grievance.id,
        actor=actor,
        before=before,
        after=_grievance_snapshot(grievance),
        proposal=proposal,
    )
    _touch(proposal)
    return grievance


def open_grievances(programme_ids: set[int] | None) -> list[tuple[Grievance, Proposal]]:
    """Every open grievance across projects, the most severe and oldest first."""
    from tracker.programmes.models import Call

    query = (
        sa.select(Grievance, Proposal)
        .join(Proposal, Proposal.id == Grievance.proposal_id)
        .where(Grievance.status.in_([GrievanceStatus.received, GrievanceStatus.under_review]))
        .options(sa.orm.joinedload(Proposal.call))
    )
    if programme_ids is not None:
        query = query.join(Call, Call.id == Proposal.call_id).where(
            Call.programme_id.in_(programme_ids or {-1})
        )
    order = {"severe": 0, "high": 1, "medium": 2, "low": 3}
    rows = list(db.session.execute(query))
    rows.sort(key=lambda r: (order.get(r[0].severity.value, 9), r[0].received_on, r[0].id))
    return rows


# --- the transitions' guards and effects --------------------------------------------------------


def _money(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError):
        return None


def committee_grant(proposal: Proposal) -> Decimal | None:
    """The amount the committee granted, as recorded when it selected the proposal."""
    entry = db.session.scalar(
        sa.select(AuditEntry)
        .where(AuditEntry.proposal_id == proposal.id, AuditEntry.object_type == "selection")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if entry is None:
        return proposal.granted_eur
    value = (entry.changes or {}).get("granted_eur", [None, None])[1]
    return _money(value) or proposal.granted_eur


class _WithTotal:
    """The proposal as the amended agreement would have it: another total cost."""

    def __init__(self, proposal: Proposal, total: Decimal | None):
        self._proposal = proposal
        self.total_cost_eur = total if total is not None else proposal.total_cost_eur

    def __getattr__(self, name):
        return getattr(self._proposal, name)


@guard("amendment_valid")
def _amendment_valid(context: TransitionContext) -> list[str]:
    from tracker.review.operations import contract_for

    contract = contract_for(context.proposal)
    if contract is None or not contract.signed:
        return [_("The project has no signed agreement to amend.")]
    if not context.with_inputs:
        return []
    end = context.data.get("end_date")
    raw_amount = context.data.get("amended_eur")
    amount = _money(raw_amount)
    raw_total = context.data.get("amended_total_eur")
    total = _money(raw_total)
    problems = []
    if end is None and raw_amount in (None, "") and raw_total in (None, ""):
        return [_("Give the new end date, the new amount or the new total cost.")]
    if end is not None and contract.start_date and end <= contract.start_date:
        problems.append(_("The agreement must end after it starts."))
    if raw_total not in (None, ""):
        if total is None or total <= 0:
            problems.append(_("Enter the new total cost in euros."))
        elif raw_amount in (None, ""):
            # The grant stays: it must still be within the rate of the new total.
            problems += eligibility.grant_problems(
                _WithTotal(context.proposal, total), contract.granted_eur
            )
    if raw_amount not in (None, ""):
        if amount is None or amount <= 0:
            problems.append(_("Enter the new amount in euros."))
        else:
            project = load_project(context.proposal)
            ceiling = committee_grant(context.proposal)
            problems += eligibility.grant_problems(
                _WithTotal(context.proposal, total or contract.total_cost_eur),
                amount,
                not_above=ceiling,
                not_above_message=_(
                    "The amount is above what the committee granted (%(granted)s).",
                    granted=eligibility.euros(ceiling),
                ),
            )
            if amount < project.paid:
                problems.append(
                    _(
                        "The amount is below what has been paid already (%(paid)s).",
                        paid=eligibility.euros(project.paid),
                    )
                )
            unpaid = [i for i in contract.instalments if not i.paid]
            if amount != contract.granted_eur and not unpaid:
                problems.append(_("Every tranche is paid: the amount can no longer change."))
            elif unpaid and unpaid[-1].amount_eur + (amount - contract.granted_eur) < 0:
                problems.append(_("The reduction is larger than the last unpaid tranche."))
    return problems


@effect("record_amendment")
def _record_amendment(context: TransitionContext) -> None:
    from tracker.review.operations import contract_for, contract_snapshot

    proposal = context.proposal
    contract = contract_for(proposal)
    before = contract_snapshot(contract)
    end = context.data.get("end_date")
    amount = _money(context.data.get("amended_eur"))
    if end is not None and end != contract.end_date:
        contract.end_date = end
        final = db.session.scalar(
            sa.select(ProjectReport).where(
                ProjectReport.proposal_id == proposal.id,
                ProjectReport.kind == ReportKind.final,
            )
        )
        if final is not None and final.open:
            final.due_on = end + FINAL_REPORT_AFTER_END
    total = _money(context.data.get("amended_total_eur"))
    if total is not None:
        contract.total_cost_eur = total
    if amount is not None and amount != contract.granted_eur:
        unpaid = [i for i in contract.instalments if not i.paid]
        unpaid[-1].amount_eur += amount - contract.granted_eur
        contract.granted_eur = amount
        proposal.granted_eur = amount
        # The shares follow the amounts; rounding goes into the last tranche.
        for instalment in contract.instalments:
            planned = instalment.paid_eur if instalment.paid else instalment.amount_eur
            instalment.percent = (planned * 100 / amount).quantize(CENT)
        contract.instalments[-1].percent += Decimal("100.00") - sum(
            i.percent for i in contract.instalments
        )
    contract.updated_at = context.now
    record_change(
        "contract",
        contract.id,
        actor=context.actor,
        before=before,
        after=contract_snapshot(contract),
        proposal=proposal,
    )


@guard("recovery_valid")
def _recovery_valid(context: TransitionContext) -> list[str]:
    if not context.with_inputs:
        return []
    raw = context.data.get("recover_eur")
    if raw in (None, ""):
        return []
    amount = _money(raw)
    if amount is None or amount < 0:
        return [_("Enter the amount to recover in euros (0 when nothing is to be recovered).")]
    paid = load_project(context.proposal).paid
    if amount > paid:
        return [
            _(
                "The amount to recover is above what was paid (%(paid)s).",
                paid=eligibility.euros(paid),
            )
        ]
    return []


@effect("record_termination")
def _record_termination(context: TransitionContext) -> None:
    from tracker.review.operations import contract_for

    contract = contract_for(context.proposal)
    if contract is None:
        return
    amount = _money(context.data.get("recover_eur")) or ZERO
    before = {"recovery_eur": plain(contract.recovery_eur)}
    contract.recovery_eur = amount
    contract.updated_at = context.now
    record_change(
        "contract",
        contract.id,
        actor=context.actor,
        before=before,
        after={"recovery_eur": plain(amount)},
        proposal=context.proposal,
    )


@guard("closure_ready")
def _closure_ready(context: TransitionContext) -> list[str]:
    project = load_project(context.proposal)
    final = project.report(ReportKind.final.value)
    problems = []
    if final is None or final.status != ReportStatus.approved:
        problems.append(_("The final report must be approved first."))
    unpaid = [t for t in project.tranches() if t.status != TrancheStatus.paid]
    if context.with_inputs and unpaid and not context.comment:
        problems.append(
            _(
                "A tranche is not paid: pay it first, or say why the project closes "
                "without it (in the message)."
            )
        )
    return problems


@effect("record_closure")
def _record_closure(context: TransitionContext) -> None:
    project = load_project(context.proposal)
    if project.contract is None:
        return
    record_change(
        "contract",
        project.contract.id,
        actor=context.actor,
        before={"closed_with": None},
        after={
            "closed_with": _(
                "%(paid)s paid of %(granted)s",
                paid=eligibility.euros(project.paid),
                granted=eligibility.euros(project.granted),
            )
        },
        proposal=context.proposal,
    )


# --- the portfolio -----------------------------------------------------------------------------


@dataclass
class PortfolioLine:
    proposal: Proposal
    state: str
    granted: Decimal
    paid: Decimal
    next_report_due: date | None
    next_report_title: str | None
    overdue_conditions: int
    open_grievances: int
    has_schedule: bool
    ended: bool

    @property
    def remaining(self) -> Decimal:
        """What is still to be paid (nothing once the project has ended)."""
        return ZERO if self.ended else max(self.granted - self.paid, ZERO)


@dataclass
class Portfolio:
    programme_code: str | None
    as_of: date
    lines: list[PortfolioLine]

    @property
    def granted(self) -> Decimal:
        return sum((line.granted for line in self.lines), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((line.paid for line in self.lines), ZERO)

    @property
    def remaining(self) -> Decimal:
        return sum((line.remaining for line in self.lines), ZERO)


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=LUXEMBOURG)


def portfolio(
    *,
    programme_ids: set[int] | None = None,
    as_of: date | None = None,
    call_id: int | None = None,
    country: str | None = None,
    sector_id: int | None = None,
    state: str | None = None,
    programme_code: str | None = None,
) -> Portfolio:
    """Every signed project as it stood at the end of ``as_of`` (Luxembourg), in a fixed
    number of queries whatever their number."""
    from tracker.programmes.models import Call
    from tracker.workflow.definitions import states_in_group
    from tracker.workflow.models import StatusChange

    as_of = as_of or local_today()
    bound = _day_end(as_of)
    signed = states_in_group("signed")
    ended = states_in_group("project_ended")
    # The state of each project at the end of the day: its last history row by then.
    last_seq = (
        sa.select(StatusChange.proposal_id, sa.func.max(StatusChange.seq).label("seq"))
        .where(StatusChange.created_at < bound)
        .group_by(StatusChange.proposal_id)
        .subquery()
    )
    query = (
        sa.select(Proposal, StatusChange.to_status)
        .join(last_seq, last_seq.c.proposal_id == Proposal.id)
        .join(
            StatusChange,
            sa.and_(
                StatusChange.proposal_id == last_seq.c.proposal_id,
                StatusChange.seq == last_seq.c.seq,
            ),
        )
        .join(Call, Call.id == Proposal.call_id)
        .where(StatusChange.to_status.in_(signed))
        .options(
            sa.orm.joinedload(Proposal.call).joinedload(Call.programme),
            sa.orm.joinedload(Proposal.sector),
            sa.orm.joinedload(Proposal.organisation),
        )
        .order_by(Proposal.reference)
    )
    if programme_ids is not None:
        query = query.where(Call.programme_id.in_(programme_ids or {-1}))
    if call_id:
        query = query.where(Proposal.call_id == call_id)
    if country:
        query = query.where(Proposal.partner_country == country)
    if sector_id:
        query = query.where(Proposal.sector_id == sector_id)
    if state:
        query = query.where(StatusChange.to_status == state)
    rows = list(db.session.execute(query).unique())
    ids = [p.id for p, _s in rows]
    granted, paid, next_due, overdue, grievances, scheduled = {}, {}, {}, {}, {}, set()
    if ids:
        for pid, amount in db.session.execute(
            sa.select(Contract.proposal_id, Contract.granted_eur).where(
                Contract.proposal_id.in_(ids)
            )
        ):
            granted[pid] = amount
            scheduled.add(pid)
        for pid, amount in db.session.execute(
            sa.select(Contract.proposal_id, sa.func.sum(PaymentInstalment.paid_eur))
            .join(PaymentInstalment, PaymentInstalment.contract_id == Contract.id)
            .where(Contract.proposal_id.in_(ids), PaymentInstalment.paid_on <= as_of)
            .group_by(Contract.proposal_id)
        ):
            paid[pid] = Decimal(str(amount or 0)).quantize(CENT)
        # A report counts as still due on the day if it was not yet approved then.
        for report in db.session.scalars(
            sa.select(ProjectReport)
            .where(ProjectReport.proposal_id.in_(ids))
            .options(sa.orm.selectinload(ProjectReport.versions))
            .order_by(ProjectReport.due_on)
        ):
            approved_at = next(
                (
                    v.decided_at
                    for v in report.versions
                    if v.decision == ReportStatus.approved and v.decided_at
                ),
                None,
            )
            submitted = [v for v in report.versions if v.submitted_at < bound]
            waiting = not submitted or (
                submitted[-1].decision == ReportStatus.returned
                and submitted[-1].decided_at
                and submitted[-1].decided_at < bound
            )
            if (approved_at is None or approved_at >= bound) and waiting:
                next_due.setdefault(report.proposal_id, report)
        for pid, _due_on, status, decided_at in db.session.execute(
            sa.select(
                ProjectCondition.proposal_id,
                ProjectCondition.due_on,
                ProjectCondition.status,
                ProjectCondition.decided_at,
            ).where(ProjectCondition.proposal_id.in_(ids), ProjectCondition.due_on < as_of)
        ):
            if status == ConditionStatus.open or (decided_at and decided_at >= bound):
                overdue[pid] = overdue.get(pid, 0) + 1
        for pid, _received_on, closed_on, status in db.session.execute(
            sa.select(
                Grievance.proposal_id, Grievance.received_on, Grievance.closed_on, Grievance.status
            ).where(Grievance.proposal_id.in_(ids), Grievance.received_on <= as_of)
        ):
            still_open = status.is_open or (closed_on is not None and closed_on > as_of)
            if still_open:
                grievances[pid] = grievances.get(pid, 0) + 1
    lines = []
    for proposal, status in rows:
        report = next_due.get(proposal.id)
        lines.append(
            PortfolioLine(
                proposal=proposal,
                state=status,
                granted=granted.get(proposal.id) or proposal.granted_eur or ZERO,
                paid=paid.get(proposal.id, ZERO),
                next_report_due=report.due_on if report else None,
                next_report_title=report.label if report else None,
                overdue_conditions=overdue.get(proposal.id, 0),
                open_grievances=grievances.get(proposal.id, 0),
                has_schedule=proposal.id in scheduled,
                ended=status in ended,
            )
        )
    # Projects followed here (with their schedule) first, then agreements kept on paper.
    lines.sort(key=lambda line: (not line.has_schedule, line.proposal.reference or ""))
    return Portfolio(programme_code=programme_code, as_of=as_of, lines=lines)


def portfolio_json(result: Portfolio) -> dict:
    """The portfolio as DESIGN section 9 fixes it (amounts as strings with two decimals)."""
    return {
        "programme": result.programme_code,
        "as_of": result.as_of.isoformat(),
        "projects": [
            {
                "reference": line.proposal.reference,
                "title": line.proposal.title,
                "company": line.proposal.lead_name or line.proposal.organisation.name,
                "state": line.state,
                "granted_eur": f"{line.granted:.2f}",
                "paid_eur": f"{line.paid:.2f}",
                "remaining_eur": f"{line.remaining:.2f}",
                "next_report_due": line.next_report_due.isoformat()
                if line.next_report_due
                else None,
                "overdue_conditions": line.overdue_conditions,
                "open_grievances": line.open_grievances,
                "has_schedule": line.has_schedule,
            }
            for line in result.lines
        ],
        "totals": {
            "granted_eur": f"{result.granted:.2f}",
            "paid_eur": f"{result.paid:.2f}",
            "remaining_eur": f"{result.remaining:.2f}",
        },
    }


# --- payments for the finance department -------------------------------------------------------


@dataclass
class PaymentLine:
    instalment: PaymentInstalment
    contract: Contract
    proposal: Proposal


def payments(
    start: date | None, end: date | None, programme_ids: set[int] | None
) -> list[PaymentLine]:
    """The payments made between two dates (inclusive), oldest first."""
    from tracker.programmes.models import Call

    query = (
        sa.select(PaymentInstalment, Contract, Proposal)
        .join(Contract, Contract.id == PaymentInstalment.contract_id)
        .join(Proposal, Proposal.id == Contract.proposal_id)
        .join(Call, Call.id == Proposal.call_id)
        .where(PaymentInstalment.paid_on.is_not(None))
        .options(
            sa.orm.joinedload(Proposal.call).joinedload(Call.programme),
            sa.orm.joinedload(Proposal.organisation),
            sa.orm.joinedload(PaymentInstalment.paid_by),
        )
        .order_by(PaymentInstalment.paid_on, PaymentInstalment.id)
    )
    if start:
        query = query.where(PaymentInstalment.paid_on >= start)
    if end:
        query = query.where(PaymentInstalment.paid_on <= end)
    if programme_ids is not None:
        query = query.where(Call.programme_id.in_(programme_ids or {-1}))
    return [PaymentLine(i, c, p) for i, c, p in db.session.execute(query).unique()]


def paid_by_proposal(ids: list[int]) -> dict[int, Decimal]:
    """What has been paid to each of these proposals, to date."""
    if not ids:
        return {}
    return {
        pid: Decimal(str(amount or 0)).quantize(CENT)
        for pid, amount in db.session.execute(
            sa.select(Contract.proposal_id, sa.func.sum(PaymentInstalment.paid_eur))
            .join(PaymentInstalment, PaymentInstalment.contract_id == Contract.id)
            .where(Contract.proposal_id.in_(ids), PaymentInstalment.paid_on.is_not(None))
            .group_by(Contract.proposal_id)
        )
    }


def disbursed_in(programme_id: int, start: date, end: date) -> tuple[Decimal, int, int]:
    """The total paid in a period for a programme, the number of payments and of projects."""
    from tracker.programmes.models import Call

    total, count, projects = db.session.execute(
        sa.select(
            sa.func.sum(PaymentInstalment.paid_eur),
            sa.func.count(PaymentInstalment.id),
            sa.func.count(sa.distinct(Contract.proposal_id)),
        )
        .join(Contract, Contract.id == PaymentInstalment.contract_id)
        .join(Proposal, Proposal.id == Contract.proposal_id)
        .join(Call, Call.id == Proposal.call_id)
        .where(
            Call.programme_id == programme_id,
            PaymentInstalment.paid_on >= start,
            PaymentInstalment.paid_on <= end,
        )
    ).one()
    return Decimal(str(total or 0)).quantize(CENT), count or 0, projects or 0


# --- documents of a report ---------------------------------------------------------------------


def add_report_document(report: ProjectReport, proposal: Proposal, actor: User, stream, filename):
    """Check and store a document sent with a report (while the company may still edit it)."""
    from tracker.projects.models import ReportDocument
    from tracker.proposals.storage import safe_filename, store_upload

    _require_member(actor, proposal)
    _require_group(proposal, "project_open")
    if not report.open:
        raise ProjectError(_("The report has been submitted and is being reviewed."))
    stored = store_upload(stream, filename)
    document = ReportDocument(
        report_id=report.id,
        filename=safe_filename(filename),
        stored_name=stored.stored_name,
        content_type=stored.file_type.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        uploaded_by_id=actor.id,
        uploaded_at=utcnow(),
    )
    db.session.add(document)
    db.session.flush()
    record_change(
        "report_document",
        document.id,
        actor=actor,
        before=None,
        after={"filename": document.filename, "sha256": document.sha256},
        proposal=proposal,
    )
    return document


def remove_report_document(report: ProjectReport, proposal: Proposal, actor: User, document_id):
    """Take back a document added to the draft; one sent with a submitted version stays."""
    from tracker.projects.models import ReportDocument
    from tracker.proposals.storage import delete_stored

    _require_member(actor, proposal)
    _require_group(proposal, "project_open")
    if not report.open:
        raise ProjectError(_("The report has been submitted and is being reviewed."))
    document = db.session.get(ReportDocument, document_id)
    if document is None or document.report_id != report.id:
        raise ProjectError(_("This document is not part of this report."))
    if not report.may_remove(document):
        raise ProjectError(_("This document was sent with a submitted version: it is kept."))
    stored_name = document.stored_name
    record_change(
        "report_document",
        document.id,
        actor=actor,
        before={"filename": document.filename, "sha256": document.sha256},
        after=None,
        proposal=proposal,
    )
    report.documents.remove(document)
    db.session.delete(document)

    @sa.event.listens_for(db.session(), "after_commit", once=True)
    def _delete_file(session):
        delete_stored(stored_name)
