"""What reviewers record: screening decisions, the HRDD assessment, scores, conflicts, contracts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.core.db import Money, Percent, UTCDateTime
from tracker.core.enums import RichEnum, enum_column
from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.programmes.models import ClauseVersion


class ScreeningItem(db.Model):
    """A reviewer's decision on one eligibility item (a manual check, or an override with a note)."""

    __tablename__ = "screening_items"

    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    met: Mapped[bool]
    note: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    decided_by: Mapped[User | None] = relationship()


class RiskCategory(RichEnum):
    A = "A"
    B = "B"
    C = "C"

    __titles__ = {
        "A": _l("A: significant, irreversible impacts"),
        "B": _l("B: limited, reversible impacts"),
        "C": _l("C: minimal impacts"),
    }
    __css__ = {"A": "danger", "B": "warning", "C": "success"}


class ClauseDecision(RichEnum):
    standard = "standard"
    conditions = "conditions"
    refused = "refused"

    __titles__ = {
        "standard": _l("Standard clause"),
        "conditions": _l("Clause with specific conditions"),
        "refused": _l("Refused: the proposal cannot proceed"),
    }
    __css__ = {"standard": "success", "conditions": "warning", "refused": "danger"}


class Level(RichEnum):
    low = "low"
    medium = "medium"
    high = "high"

    __titles__ = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High")}
    __css__ = {"low": "success", "medium": "warning", "high": "danger"}


class HrddAssessment(db.Model):
    """The HRDD officer's assessment of one proposal (DESIGN section 3)."""

    __tablename__ = "hrdd_assessments"

    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    exclusion_checked: Mapped[bool] = mapped_column(default=False)
    exclusion_hit: Mapped[bool] = mapped_column(default=False)
    exclusion_note: Mapped[str] = mapped_column(sa.Text, default="")
    risk_category: Mapped[RiskCategory | None] = mapped_column(
        enum_column(RiskCategory, "risk_category")
    )
    clause_decision: Mapped[ClauseDecision | None] = mapped_column(
        enum_column(ClauseDecision, "clause_decision")
    )
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    assessed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assessed_by: Mapped[User | None] = relationship()
    risks: Mapped[list[HrddRisk]] = relationship(
        cascade="all, delete-orphan", order_by="HrddRisk.risk_key"
    )
    conditions: Mapped[list[HrddCondition]] = relationship(
        cascade="all, delete-orphan", order_by="HrddCondition.position"
    )

    __table_args__ = (
        # A hit on the exclusion list can only end in a refused clause.
        sa.CheckConstraint(
            "NOT exclusion_hit OR clause_decision IS NULL OR clause_decision = 'refused'",
            name="exclusion_refuses",
        ),
    )


class HrddRisk(db.Model):
    """One salient risk: relevant or not, and if relevant its severity and likelihood."""

    __tablename__ = "hrdd_risks"

    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hrdd_assessments.proposal_id", ondelete="CASCADE"), primary_key=True
    )
    risk_key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    relevant: Mapped[bool | None]
    severity: Mapped[Level | None] = mapped_column(enum_column(Level, "severity"))
    likelihood: Mapped[Level | None] = mapped_column(enum_column(Level, "likelihood"))
    note: Mapped[str] = mapped_column(sa.Text, default="")


class HrddCondition(db.Model):
    """A specific condition of the clause, carried into the contract."""

    __tablename__ = "hrdd_conditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hrdd_assessments.proposal_id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    text: Mapped[str] = mapped_column(sa.Text)


class ReviewerAssignment(db.Model):
    """A reviewer asked to score a proposal."""

    __tablename__ = "reviewer_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])

    __table_args__ = (
        sa.UniqueConstraint("proposal_id", "reviewer_id", name="uq_reviewer_assignments_pair"),
    )


class ConflictDeclaration(db.Model):
    """A scorer's or committee member's declaration of (no) conflict of interest on a proposal."""

    __tablename__ = "conflict_declarations"

    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    has_conflict: Mapped[bool]
    note: Mapped[str] = mapped_column(sa.Text, default="")
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class Score(db.Model):
    """One reviewer's marks for a proposal, per weighted criterion, and their weighted total."""

    __tablename__ = "scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    marks: Mapped[dict] = mapped_column(sa.JSON)
    # A copy of the rubric the score was given under (criteria, weights, scales), so editing
    # the call's rubric never changes a score or a ranking already recorded.
    rubric: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    total: Mapped[Decimal] = mapped_column(Percent)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[User] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("proposal_id", "reviewer_id", name="uq_scores_pair"),
        sa.CheckConstraint("total >= 0 AND total <= 100", name="total_range"),
    )


class Contract(db.Model):
    """The co-financing agreement: amount, dates, the HRDD clause as signed, payments, signatures."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), unique=True
    )
    number: Mapped[str | None] = mapped_column(sa.String(60), unique=True)
    granted_eur: Mapped[Decimal | None] = mapped_column(Money)
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    clause_version_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clause_versions.id"))
    # The exact clause text and conditions as signed, copied when the signature is recorded.
    clause_text: Mapped[str | None] = mapped_column(sa.Text)
    conditions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    agency_signed_on: Mapped[date | None]
    company_signed_on: Mapped[date | None]
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After the signature: who follows the project, and what a termination asks back.
    responsible_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recovery_eur: Mapped[Decimal | None] = mapped_column(Money)
    # The project's total cost as agreed (the proposal's at signature; an amendment changes it).
    total_cost_eur: Mapped[Decimal | None] = mapped_column(Money)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    clause_version: Mapped[ClauseVersion | None] = relationship()
    responsible: Mapped[User | None] = relationship()
    instalments: Mapped[list[PaymentInstalment]] = relationship(
        cascade="all, delete-orphan", order_by="PaymentInstalment.position"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            "signed_at IS NULL OR (clause_text IS NOT NULL AND agency_signed_on IS NOT NULL "
            "AND company_signed_on IS NOT NULL AND number IS NOT NULL)",
            name="signed_complete",
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date > start_date", name="dates"
        ),
    )

    @property
    def signed(self) -> bool:
        return self.signed_at is not None

    @property
    def signed_on(self) -> date | None:
        if self.agency_signed_on is None or self.company_signed_on is None:
            return None
        return max(self.agency_signed_on, self.company_signed_on)


class PaymentInstalment(db.Model):
    """One payment of the schedule: what triggers it and how much."""

    __tablename__ = "payment_instalments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    label: Mapped[str] = mapped_column(sa.String(200))
    percent: Mapped[Decimal] = mapped_column(Percent)
    amount_eur: Mapped[Decimal] = mapped_column(Money)
    # What releases it: the signature, an approved report (its kind), HRDD conditions met or
    # waived (their numbers in the agreement). All of them must be satisfied.
    release_at_signature: Mapped[bool] = mapped_column(default=False)
    release_report: Mapped[str | None] = mapped_column(sa.String(20))
    release_conditions: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    # The payment, once made (the amount can be lower than planned, never above what remains).
    paid_on: Mapped[date | None]
    paid_eur: Mapped[Decimal | None] = mapped_column(Money)
    payment_reference: Mapped[str | None] = mapped_column(sa.String(100))
    paid_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    paid_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "(paid_on IS NULL) = (paid_eur IS NULL) AND (paid_eur IS NULL OR paid_eur > 0)",
            name="payment_complete",
        ),
    )

    @property
    def paid(self) -> bool:
        return self.paid_on is not None
