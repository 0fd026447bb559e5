"""What is followed after the signature: reports and their versions, the HRDD conditions of the
clause, grievances; the payments are recorded on the agreement's tranches (review.models)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.core.db import UTCDateTime
from tracker.core.enums import RichEnum, enum_column
from tracker.core.time import utcnow
from tracker.extensions import db


class ReportKind(RichEnum):
    mid_term = "mid_term"
    final = "final"
    other = "other"

    __titles__ = {
        "mid_term": _l("Mid-term report"),
        "final": _l("Final report"),
        "other": _l("Progress report"),
    }
    # The same inside a sentence ("the %(report)s is not approved").
    __phrases__ = {
        "mid_term": _l("mid-term report"),
        "final": _l("final report"),
        "other": _l("progress report"),
    }

    @property
    def phrase(self) -> str:
        return str(self.__phrases__[self.value])


class ReportStatus(RichEnum):
    due = "due"  # nothing written yet
    draft = "draft"
    submitted = "submitted"
    returned = "returned"  # back to the company with comments
    approved = "approved"

    __titles__ = {
        "due": _l("To write"),
        "draft": _l("Draft"),
        "submitted": _l("Submitted, under review"),
        "returned": _l("Returned for correction"),
        "approved": _l("Approved"),
    }
    __css__ = {
        "due": "secondary",
        "draft": "secondary",
        "submitted": "info",
        "returned": "warning",
        "approved": "success",
    }


class ProjectReport(db.Model):
    """A progress or final report the agreement asks for, with its due date and current draft."""

    __tablename__ = "project_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ReportKind] = mapped_column(enum_column(ReportKind, "report_kind"))
    title: Mapped[str] = mapped_column(sa.String(200))
    due_on: Mapped[date]
    status: Mapped[ReportStatus] = mapped_column(
        enum_column(ReportStatus, "report_status"), default=ReportStatus.due
    )
    # What the company is writing (the draft); each submission is copied into a version.
    content: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    versions: Mapped[list[ReportVersion]] = relationship(
        cascade="all, delete-orphan", order_by="ReportVersion.number"
    )
    documents: Mapped[list[ReportDocument]] = relationship(
        cascade="all, delete-orphan", order_by="ReportDocument.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (sa.UniqueConstraint("proposal_id", "kind", "title", name="uq_report_title"),)

    @property
    def label(self) -> str:
        """Its title in the reader's language (a named report keeps the name it was given)."""
        return self.kind.title if self.kind != ReportKind.other else self.title

    @property
    def phrase(self) -> str:
        return self.kind.phrase if self.kind != ReportKind.other else self.title

    @property
    def open(self) -> bool:
        """Still waiting for the company (not submitted, or returned)."""
        return self.status in (ReportStatus.due, ReportStatus.draft, ReportStatus.returned)

    def overdue(self, today: date) -> bool:
        return self.open and self.due_on < today

    def may_remove(self, document: ReportDocument) -> bool:
        """A document may be taken back until a version is submitted with it."""
        return not self.versions or document.uploaded_at > self.versions[-1].submitted_at


class ReportVersion(db.Model):
    """One submission of a report, kept as submitted, with the agency's decision on it."""

    __tablename__ = "report_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("project_reports.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    content: Mapped[dict] = mapped_column(sa.JSON)
    checksum: Mapped[str] = mapped_column(sa.String(64))
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decision: Mapped[ReportStatus | None] = mapped_column(
        enum_column(ReportStatus, "report_decision")
    )
    comment: Mapped[str] = mapped_column(sa.Text, default="")  # for the company
    internal_note: Mapped[str] = mapped_column(sa.Text, default="")  # staff only
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (sa.UniqueConstraint("report_id", "number", name="uq_report_versions"),)


class ReportDocument(db.Model):
    """A document sent with a report (stored like the proposal's uploads)."""

    __tablename__ = "report_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("project_reports.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(120))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConditionStatus(RichEnum):
    open = "open"
    met = "met"
    waived = "waived"

    __titles__ = {"open": _l("Open"), "met": _l("Met"), "waived": _l("Waived")}
    __css__ = {"open": "secondary", "met": "success", "waived": "info"}


class ProjectCondition(db.Model):
    """A specific condition of the HRDD clause as signed, followed until met or waived."""

    __tablename__ = "project_conditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]  # its number in the agreement
    text: Mapped[str] = mapped_column(sa.Text)
    due_on: Mapped[date]
    status: Mapped[ConditionStatus] = mapped_column(
        enum_column(ConditionStatus, "condition_status"), default=ConditionStatus.open
    )
    evidence: Mapped[str] = mapped_column(sa.Text, default="")
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # why it was waived
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    decided_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("proposal_id", "position", name="uq_condition_number"),)

    @property
    def settled(self) -> bool:
        return self.status in (ConditionStatus.met, ConditionStatus.waived)

    def overdue(self, today: date) -> bool:
        """Open after its due date (the caller gives today's date in Luxembourg)."""
        return self.status == ConditionStatus.open and self.due_on < today


class GrievanceChannel(RichEnum):
    company_mechanism = "company_mechanism"
    agency = "agency"
    partner = "partner"
    media = "media"
    other = "other"

    __titles__ = {
        "company_mechanism": _l("The company's grievance mechanism"),
        "agency": _l("Directly to the agency"),
        "partner": _l("Through the local partner"),
        "media": _l("Media or civil society"),
        "other": _l("Other"),
    }


class GrievanceCategory(RichEnum):
    labour = "labour"
    land = "land"
    community = "community"
    environment = "environment"
    data = "data"
    other = "other"

    __titles__ = {
        "labour": _l("Labour rights"),
        "land": _l("Land and property"),
        "community": _l("Community health, safety and livelihoods"),
        "environment": _l("Environment"),
        "data": _l("Privacy and data"),
        "other": _l("Other"),
    }


class GrievanceSeverity(RichEnum):
    low = "low"
    medium = "medium"
    high = "high"
    severe = "severe"

    __titles__ = {
        "low": _l("Low"),
        "medium": _l("Medium"),
        "high": _l("High"),
        "severe": _l("Severe"),
    }
    __css__ = {"low": "success", "medium": "warning", "high": "danger", "severe": "danger"}


class GrievanceStatus(RichEnum):
    received = "received"
    under_review = "under_review"
    addressed = "addressed"  # response and remediation given
    closed = "closed"

    __titles__ = {
        "received": _l("Received"),
        "under_review": _l("Under review"),
        "addressed": _l("Addressed"),
        "closed": _l("Closed"),
    }
    __css__ = {
        "received": "warning",
        "under_review": "info",
        "addressed": "success",
        "closed": "secondary",
    }

    @property
    def is_open(self) -> bool:
        return self in (GrievanceStatus.received, GrievanceStatus.under_review)


class Grievance(db.Model):
    """A grievance about a project (UN Guiding Principles 29 and 31)."""

    __tablename__ = "grievances"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    received_on: Mapped[date]
    channel: Mapped[GrievanceChannel] = mapped_column(
        enum_column(GrievanceChannel, "grievance_channel")
    )
    raised_by: Mapped[str] = mapped_column(sa.String(200), default="")  # empty when anonymous
    anonymous: Mapped[bool] = mapped_column(default=False)
    category: Mapped[GrievanceCategory] = mapped_column(
        enum_column(GrievanceCategory, "grievance_category")
    )
    severity: Mapped[GrievanceSeverity] = mapped_column(
        enum_column(GrievanceSeverity, "grievance_severity")
    )
    description: Mapped[str] = mapped_column(sa.Text)
    response: Mapped[str] = mapped_column(sa.Text, default="")
    remediation: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[GrievanceStatus] = mapped_column(
        enum_column(GrievanceStatus, "grievance_status"), default=GrievanceStatus.received
    )
    blocks_payment: Mapped[bool] = mapped_column(default=False)
    closed_on: Mapped[date | None]
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    recorded_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint("NOT anonymous OR raised_by = ''", name="anonymous_has_no_name"),
    )

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def blocking(self) -> bool:
        """Holds the next payment until it is addressed (set for severe ones by default)."""
        return self.is_open and self.blocks_payment
