"""Proposals and what hangs off them: partners, the HRDD self-assessment and documents."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import Organisation, User
from tracker.core.db import Money, UTCDateTime
from tracker.core.enums import RichEnum, enum_column
from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.programmes.models import Call, CallBatch, ClauseVersion, Sector


class ProjectType(RichEnum):
    feasibility_study = "feasibility_study"
    pilot = "pilot"
    market_entry = "market_entry"
    scale_up = "scale_up"

    __titles__ = {
        "feasibility_study": _l("Feasibility study"),
        "pilot": _l("Pilot"),
        "market_entry": _l("Market entry"),
        "scale_up": _l("Scale-up"),
    }


class PartnerKind(RichEnum):
    company = "company"
    public_body = "public_body"
    research = "research"
    civil_society = "civil_society"

    __titles__ = {
        "company": _l("Company"),
        "public_body": _l("Public body"),
        "research": _l("University or research institute"),
        "civil_society": _l("Civil society organisation"),
    }


class AttachmentKind(RichEnum):
    business_plan = "business_plan"
    budget_sheet = "budget_sheet"
    partner_letter = "partner_letter"
    other = "other"
    response = "response"
    answer = "answer"

    __titles__ = {
        "business_plan": _l("Business plan"),
        "budget_sheet": _l("Budget sheet"),
        "partner_letter": _l("Partner letter of intent"),
        "other": _l("Other document"),
        "response": _l("Document sent with an answer"),
        "answer": _l("Document answering a question"),
    }


REQUIRED_DOCUMENTS = (
    AttachmentKind.business_plan,
    AttachmentKind.budget_sheet,
    AttachmentKind.partner_letter,
)


class Proposal(db.Model):
    """A proposal to a call, from the first draft to a signed contract."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reference: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    # Only the workflow service assigns this (tracker.workflow.operations).
    status: Mapped[str] = mapped_column(sa.String(32), index=True)
    version: Mapped[int] = mapped_column(default=1)
    imported: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    full_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submission_checksum: Mapped[str | None] = mapped_column(sa.String(64))
    # An administrator's extension of this proposal's deadline (recorded in its history).
    deadline_extended_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The review batch of a rolling call, set at submission.
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("call_batches.id"), index=True)

    # 1. Lead applicant (a snapshot at the time of the proposal).
    lead_name: Mapped[str | None] = mapped_column(sa.String(200))
    lead_country: Mapped[str | None] = mapped_column(sa.String(2))
    lead_registration_number: Mapped[str | None] = mapped_column(sa.String(80))
    lead_registration_date: Mapped[date | None]
    lead_employees: Mapped[int | None]
    lead_turnover_1: Mapped[Decimal | None] = mapped_column(Money)
    lead_turnover_2: Mapped[Decimal | None] = mapped_column(Money)
    lead_turnover_3: Mapped[Decimal | None] = mapped_column(Money)
    lead_is_road_haulage: Mapped[bool] = mapped_column(default=False)
    de_minimis_1: Mapped[Decimal | None] = mapped_column(Money)
    de_minimis_2: Mapped[Decimal | None] = mapped_column(Money)
    de_minimis_3: Mapped[Decimal | None] = mapped_column(Money)

    # 3. Project.
    title: Mapped[str | None] = mapped_column(sa.String(200))
    summary: Mapped[str | None] = mapped_column(sa.Text)
    project_type: Mapped[ProjectType | None] = mapped_column(
        enum_column(ProjectType, "project_type")
    )
    sector_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sectors.id"), index=True)
    target_countries: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    sdgs: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    problem: Mapped[str | None] = mapped_column(sa.Text)
    solution: Mapped[str | None] = mapped_column(sa.Text)
    impact_jobs: Mapped[int | None]
    impact_beneficiaries: Mapped[int | None]
    technology_transfer: Mapped[str | None] = mapped_column(sa.Text)
    innovation: Mapped[str | None] = mapped_column(sa.Text)
    sustainability: Mapped[str | None] = mapped_column(sa.Text)
    start_date: Mapped[date | None]
    duration_months: Mapped[int | None]

    # 4. Budget.
    total_cost_eur: Mapped[Decimal | None] = mapped_column(Money)
    requested_eur: Mapped[Decimal | None] = mapped_column(Money)
    own_contribution_eur: Mapped[Decimal | None] = mapped_column(Money)
    other_funding_eur: Mapped[Decimal | None] = mapped_column(Money)

    # 7. Declarations.
    declared_accuracy: Mapped[bool] = mapped_column(default=False)
    declared_de_minimis: Mapped[bool] = mapped_column(default=False)
    declared_data_protection: Mapped[bool] = mapped_column(default=False)
    accepted_clause_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clause_versions.id")
    )
    declarations_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Kept in step with the first local partner, for filters and reports over many proposals.
    partner_country: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    # Set when the committee selects the proposal (or by an import's granted_eur).
    granted_eur: Mapped[Decimal | None] = mapped_column(Money)
    # What an applicant typed that could not be saved yet (a malformed number, say), per section,
    # so that nothing typed is lost between sittings.
    unsaved_inputs: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    call: Mapped[Call] = relationship()
    batch: Mapped[CallBatch | None] = relationship()
    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[User | None] = relationship()
    sector: Mapped[Sector | None] = relationship()
    accepted_clause_version: Mapped[ClauseVersion | None] = relationship()
    partners: Mapped[list[Partner]] = relationship(
        back_populates="proposal", order_by="Partner.position", cascade="all, delete-orphan"
    )
    self_assessment: Mapped[list[SelfAssessmentAnswer]] = relationship(
        order_by="SelfAssessmentAnswer.step", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="proposal", order_by="Attachment.uploaded_at", cascade="all, delete-orphan"
    )

    # Optimistic locking: every UPDATE checks and bumps the version, so a stale edit fails.
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.Index("ix_proposals_call_status", "call_id", "status"),
        # The queue's sorts walk these (a page of a sorted queue reads 50 rows, not all).
        sa.Index("ix_proposals_title_id", "title", "id", "status"),
        sa.Index("ix_proposals_requested_id", "requested_eur", "id", "status"),
        sa.Index("ix_proposals_submitted_id", "submitted_at", "id", "status"),
        sa.Index("ix_proposals_updated_id", "updated_at", "id", "status"),
        sa.Index("ix_proposals_status_id", "status", "id"),
        # My work: the proposals of a status, the longest unchanged first.
        sa.Index("ix_proposals_status_updated", "status", "updated_at", "id"),
        # The status tabs' counts of a sector's proposals, from the index alone.
        sa.Index("ix_proposals_sector_status", "sector_id", "status"),
        sa.CheckConstraint(
            "reference IS NOT NULL OR status IN ('draft', 'withdrawn')", name="reference"
        ),
    )

    def __repr__(self) -> str:
        return f"<Proposal {self.id} {self.reference or 'draft'}>"

    @property
    def display_reference(self) -> str:
        return self.reference or f"Draft #{self.id}"

    @property
    def display_title(self) -> str:
        return self.title or str(_l("Untitled proposal"))

    @property
    def local_partner(self) -> Partner | None:
        return next((p for p in self.partners if p.is_local), None)

    def answer_for(self, step: int) -> SelfAssessmentAnswer | None:
        return next((a for a in self.self_assessment if a.step == step), None)


class Partner(db.Model):
    """A local partner in a developing country or an associated EU partner."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(200))
    country: Mapped[str] = mapped_column(sa.String(2))
    kind: Mapped[PartnerKind] = mapped_column(enum_column(PartnerKind, "partner_kind"))
    is_local: Mapped[bool] = mapped_column(default=True)
    role_description: Mapped[str] = mapped_column(sa.Text, default="")

    proposal: Mapped[Proposal] = relationship(back_populates="partners")

    __table_args__ = (sa.UniqueConstraint("proposal_id", "position", name="uq_partners_position"),)


class SelfAssessmentAnswer(db.Model):
    """The applicant's answer to one of the six OECD due-diligence steps."""

    __tablename__ = "self_assessment_answers"

    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    step: Mapped[int] = mapped_column(primary_key=True)
    answer: Mapped[str] = mapped_column(sa.Text, default="")
    evidence: Mapped[str] = mapped_column(sa.Text, default="")

    __table_args__ = (sa.CheckConstraint("step BETWEEN 1 AND 6", name="step"),)


class Attachment(db.Model):
    """An uploaded document, stored outside the web root under a random name."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AttachmentKind] = mapped_column(enum_column(AttachmentKind, "attachment_kind"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(120))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Documents sent with an answer to a request for information point at that history row.
    status_change_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("status_changes.id"), index=True
    )

    proposal: Mapped[Proposal] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User | None] = relationship()


class ReferenceCounter(db.Model):
    """The last reference number handed out per programme and year."""

    __tablename__ = "reference_counters"

    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


class SubmissionStage(RichEnum):
    concept = "concept"
    full = "full"

    __titles__ = {"concept": _l("Concept note"), "full": _l("Full proposal")}


class Submission(db.Model):
    """Exactly what was submitted at one stage, kept as it was: its content and its checksum.

    In a two-stage call the concept note's receipt stays valid after the full proposal is
    submitted; staff can read each version and what changed between them.
    """

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    stage: Mapped[SubmissionStage] = mapped_column(enum_column(SubmissionStage, "submission_stage"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    checksum: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[dict] = mapped_column(sa.JSON)
    # Submitted after the deadline, in the call's grace period or under an extension.
    late: Mapped[bool] = mapped_column(default=False)

    submitted_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("proposal_id", "number", name="uq_submissions_proposal_number"),
    )
