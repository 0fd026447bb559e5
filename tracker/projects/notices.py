"""Who hears of a project's reports and due dates: the company's people and the member of
staff who follows the project (the one who recorded the signature, or the programme's
reviewers when nobody does)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import gettext as _

from tracker.auth.models import Role
from tracker.core.time import LUXEMBOURG
from tracker.extensions import db
from tracker.notifications.mail import Composed, page_url
from tracker.notifications.models import Kind
from tracker.notifications.operations import members_of, notify, staff_with


def followers(proposal, contract) -> list:
    if contract is not None and contract.responsible is not None:
        return [contract.responsible]
    return staff_with(proposal.call.programme_id, Role.reviewer)


def tell_report_submitted(project, report, version) -> None:
    proposal = project.proposal

    def compose(user):
        return Composed(
            subject=_(
                "%(ref)s: the %(report)s was submitted",
                ref=proposal.display_reference,
                report=report.phrase,
            ),
            paragraphs=[
                _(
                    "%(company)s submitted version %(n)s of the %(report)s of “%(title)s”. "
                    "It waits for your review.",
                    company=proposal.lead_name or proposal.organisation.name,
                    n=version.number,
                    report=report.phrase,
                    title=proposal.display_title,
                )
            ],
            link=page_url("projects.report", proposal_id=proposal.id, report_id=report.id),
            link_label=_("Review the report"),
        )

    notify(
        followers(proposal, project.contract),
        Kind.report_received.value,
        compose,
        proposal=proposal,
    )


def tell_report_decided(proposal, report, version) -> None:
    from tracker.projects.models import ReportStatus

    approved = version.decision == ReportStatus.approved

    def compose(user):
        if approved:
            subject = _(
                "%(ref)s: your %(report)s is approved",
                ref=proposal.display_reference,
                report=report.phrase,
            )
            text = _(
                "The agency approved the %(report)s of “%(title)s”.",
                report=report.phrase,
                title=proposal.display_title,
            )
        else:
            subject = _(
                "%(ref)s: your %(report)s needs corrections",
                ref=proposal.display_reference,
                report=report.phrase,
            )
            text = _(
                "The agency returned the %(report)s of “%(title)s” with comments. Correct "
                "it and submit it again.",
                report=report.phrase,
                title=proposal.display_title,
            )
        return Composed(
            subject=subject,
            paragraphs=[text],
            quote=version.comment or "",
            quote_label=_("The agency's comments"),
            link=page_url(
                "projects.applicant_report", proposal_id=proposal.id, report_id=report.id
            ),
            link_label=_("Open the report"),
        )

    notify(
        members_of(proposal.organisation_id), Kind.status_change.value, compose, proposal=proposal
    )


# --- reminders (run by the worker) -------------------------------------------------------------


def _day(moment: datetime) -> date:
    return moment.astimezone(LUXEMBOURG).date()


def project_reminders(now: datetime, before: int = 14) -> int:
    """Reports and conditions due in ``before`` days, and those overdue: the company and the
    project's follower are told, each once per due date."""
    from tracker.projects.models import (
        ConditionStatus,
        ProjectCondition,
        ProjectReport,
        ReportStatus,
    )
    from tracker.proposals.models import Proposal
    from tracker.review.models import Contract
    from tracker.workflow.definitions import states_in_group

    today = _day(now)
    # Two days a year of reminders per item: the day it falls due in ``before`` days, and the
    # day after it was due; the worker ticks often, so only those days are looked at.
    days = [today + timedelta(days=before), today - timedelta(days=1)]
    open_states = states_in_group("project_open")
    written = 0
    reports = db.session.execute(
        sa.select(ProjectReport, Proposal)
        .join(Proposal, Proposal.id == ProjectReport.proposal_id)
        .where(
            Proposal.status.in_(open_states),
            ProjectReport.status.in_([ReportStatus.due, ReportStatus.draft, ReportStatus.returned]),
            ProjectReport.due_on.in_(days),
        )
    ).all()
    conditions = db.session.execute(
        sa.select(ProjectCondition, Proposal)
        .join(Proposal, Proposal.id == ProjectCondition.proposal_id)
        .where(
            Proposal.status.in_(open_states),
            ProjectCondition.status == ConditionStatus.open,
            ProjectCondition.due_on.in_(days),
        )
    ).all()
    contracts = {
        c.proposal_id: c
        for c in db.session.scalars(
            sa.select(Contract).where(
                Contract.proposal_id.in_({p.id for _o, p in [*reports, *conditions]} or {-1})
            )
        )
    }
    for item, proposal in [*reports, *conditions]:
        is_report = isinstance(item, ProjectReport)
        overdue = item.due_on < today
        key = f"{'report' if is_report else 'condition'}-{'overdue' if overdue else 'due'}:{item.id}:{item.due_on}"

        def compose(user, item=item, proposal=proposal, overdue=overdue, is_report=is_report):
            day = format_date(item.due_on, "d MMMM y")
            what = item.phrase if is_report else _("HRDD condition %(n)s", n=item.position)
            if overdue:
                subject = _(
                    "%(ref)s: the %(what)s is overdue", ref=proposal.display_reference, what=what
                )
                text = _(
                    "The %(what)s of “%(title)s” was due on %(day)s.",
                    what=what,
                    title=proposal.display_title,
                    day=day,
                )
            else:
                subject = _(
                    "%(ref)s: the %(what)s is due on %(day)s",
                    ref=proposal.display_reference,
                    what=what,
                    day=day,
                )
                text = _(
                    "The %(what)s of “%(title)s” is due on %(day)s.",
                    what=what,
                    title=proposal.display_title,
                    day=day,
                )
            staff = user.is_staff
            return Composed(
                subject=subject,
                paragraphs=[text],
                quote="" if is_report else item.text,
                link=page_url("projects.show", proposal_id=proposal.id)
                if staff
                else page_url("projects.applicant", proposal_id=proposal.id),
                link_label=_("Open the project"),
            )

        people = [
            *members_of(proposal.organisation_id),
            *followers(proposal, contracts.get(proposal.id)),
        ]
        written += len(
            notify(people, Kind.report_due.value, compose, proposal=proposal, dedupe=key)
        )
    return written
