"""Programmes, calls, sectors and HRDD clause versions: the data a facility is configured with."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import Money, Percent, UTCDateTime
from tracker.core.enums import RichEnum, enum_column
from tracker.core.time import utcnow
from tracker.extensions import db


class Programme(db.Model):
    """A co-financing facility such as the Business Partnership Facility (code ``BPF``)."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    first_year: Mapped[int]
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # The yearly report's own words: an introduction before the figures, notes on the method.
    report_introduction: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    report_method: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    calls: Mapped[list[Call]] = relationship(
        back_populates="programme", order_by="Call.opens_at.desc()"
    )

    def __repr__(self) -> str:
        return f"<Programme {self.code}>"


call_sectors = sa.Table(
    "call_sectors",
    db.metadata,
    sa.Column("call_id", sa.ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("sector_id", sa.ForeignKey("sectors.id"), primary_key=True),
)


class Sector(db.Model):
    """A sector a project can belong to; built-in ones come from DESIGN section 2."""

    __tablename__ = "sectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(40), unique=True)
    label: Mapped[str] = mapped_column(sa.String(100))
    built_in: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=100)

    def __repr__(self) -> str:
        return f"<Sector {self.key}>"


class TurnoverBase(RichEnum):
    """What the turnover multiple applies to (sources disagree, so it is a call setting)."""

    requested = "requested"
    total = "total"

    __titles__ = {
        "requested": _l("the requested co-financing"),
        "total": _l("the total project cost"),
    }


class Call(db.Model):
    """A call for proposals: its window, its rules and the workflow its proposals follow."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    workflow_key: Mapped[str] = mapped_column(sa.String(40))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # None only for a rolling call without an end: proposals are then reviewed in batches.
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rolling: Mapped[bool] = mapped_column(default=False)
    # Submissions this long after the closing time are still accepted, and marked late.
    grace_minutes: Mapped[int] = mapped_column(default=0)
    # Two-stage calls only: the deadline of the full proposal.
    full_proposal_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    partner_countries: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    cofinancing_rate: Mapped[Decimal] = mapped_column(Percent, default=Decimal("50.00"))
    # Rates by the local partner's country's income group on the OECD-DAC list, such as
    # {"ldc": "85.00", "other_lic": "85.00"}; a group not given uses cofinancing_rate.
    rate_by_income_group: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    ceiling_eur: Mapped[Decimal] = mapped_column(Money, default=Decimal("200000.00"))
    road_haulage_ceiling_eur: Mapped[Decimal] = mapped_column(Money, default=Decimal("100000.00"))
    budget_envelope_eur: Mapped[Decimal | None] = mapped_column(Money)
    min_company_age_years: Mapped[int] = mapped_column(default=3)
    min_employees: Mapped[int] = mapped_column(default=5)
    min_turnover_eur: Mapped[Decimal] = mapped_column(Money, default=Decimal("500000.00"))
    turnover_multiple: Mapped[Decimal] = mapped_column(Percent, default=Decimal("3.00"))
    turnover_base: Mapped[TurnoverBase] = mapped_column(
        enum_column(TurnoverBase, "turnover_base"), default=TurnoverBase.requested
    )
    imported: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    programme: Mapped[Programme] = relationship(back_populates="calls")
    sectors: Mapped[list[Sector]] = relationship(
        secondary=call_sectors, order_by="Sector.position, Sector.label"
    )
    batches: Mapped[list[CallBatch]] = relationship(
        back_populates="call", order_by="CallBatch.closes_at", cascade="all, delete-orphan"
    )
    rubric: Mapped[Rubric | None] = relationship(
        back_populates="call", cascade="all, delete-orphan", uselist=False
    )

    __table_args__ = (
        sa.UniqueConstraint("programme_id", "title", name="uq_calls_programme_title"),
        sa.CheckConstraint("closes_at IS NULL OR closes_at > opens_at", name="window"),
        sa.CheckConstraint("rolling OR closes_at IS NOT NULL", name="closing"),
        sa.CheckConstraint("grace_minutes >= 0 AND grace_minutes <= 10080", name="grace"),
        sa.CheckConstraint(
            "full_proposal_closes_at IS NULL OR full_proposal_closes_at > closes_at",
            name="full_proposal_after_concept",
        ),
        sa.CheckConstraint("cofinancing_rate > 0 AND cofinancing_rate <= 100", name="rate"),
    )

    def __repr__(self) -> str:
        return f"<Call {self.id} {self.title!r}>"

    def is_open(self, now: datetime | None = None) -> bool:
        """Open for new proposals (the grace period is for those already started)."""
        now = now or utcnow()
        return self.opens_at <= now and (self.closes_at is None or now < self.closes_at)

    @property
    def grace(self) -> timedelta:
        return timedelta(minutes=self.grace_minutes or 0)

    def batch_at(self, when: datetime) -> CallBatch | None:
        """The batch of a rolling call that a proposal submitted at ``when`` goes into."""
        return next((b for b in self.batches if when < b.closes_at), None)

    def full_proposal_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.full_proposal_closes_at is not None and now < self.full_proposal_closes_at


class CallBatch(db.Model):
    """A review round of a rolling call: proposals submitted before its cut-off, its envelope."""

    __tablename__ = "call_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    budget_envelope_eur: Mapped[Decimal | None] = mapped_column(Money)

    call: Mapped[Call] = relationship(back_populates="batches")

    __table_args__ = (sa.UniqueConstraint("call_id", "number", name="uq_call_batches_call_number"),)


class Rubric(db.Model):
    """How a call's proposals are scored: criteria, independent scores, divergence, threshold."""

    __tablename__ = "rubrics"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    scores_required: Mapped[int] = mapped_column(default=2)
    # A further score is needed when two totals differ by more than this share of the higher
    # (per cent); None: no such rule.
    divergence_percent: Mapped[Decimal | None] = mapped_column(Percent, default=Decimal("30.00"))
    # Proposals whose mean total (out of 100) is below this are not ranked.
    threshold: Mapped[Decimal | None] = mapped_column(Percent)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    call: Mapped[Call] = relationship(back_populates="rubric")
    criteria: Mapped[list[RubricCriterion]] = relationship(
        order_by="RubricCriterion.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("scores_required BETWEEN 1 AND 9", name="scores_required"),
    )

    def as_data(self) -> dict:
        """The rubric as plain data: what each score keeps a copy of."""
        return {
            "scores_required": self.scores_required,
            "divergence_percent": None
            if self.divergence_percent is None
            else f"{self.divergence_percent:.2f}",
            "threshold": None if self.threshold is None else f"{self.threshold:.2f}",
            "criteria": [c.as_data() for c in self.criteria],
        }


class RubricCriterion(db.Model):
    """One criterion: a title, guidance for the scorer, a weight and a scale."""

    __tablename__ = "rubric_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_id: Mapped[int] = mapped_column(
        sa.ForeignKey("rubrics.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    key: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(200))
    guidance: Mapped[str] = mapped_column(sa.Text, default="")
    weight: Mapped[Decimal] = mapped_column(Percent)
    scale_min: Mapped[int] = mapped_column(default=0)
    scale_max: Mapped[int] = mapped_column(default=10)

    __table_args__ = (
        sa.UniqueConstraint("rubric_id", "key", name="uq_rubric_criteria_key"),
        sa.CheckConstraint("weight > 0", name="weight"),
        sa.CheckConstraint("scale_max > scale_min", name="scale"),
    )

    def as_data(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "guidance": self.guidance,
            "weight": f"{self.weight:.2f}",
            "min": self.scale_min,
            "max": self.scale_max,
        }


class ClauseStatus(RichEnum):
    draft = "draft"
    published = "published"

    __titles__ = {"draft": _l("Draft"), "published": _l("Published")}
    __css__ = {"draft": "secondary", "published": "success"}


class ClauseVersion(db.Model):
    """One version of the HRDD clause text; the newest published one is current."""

    __tablename__ = "clause_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[ClauseStatus] = mapped_column(
        enum_column(ClauseStatus, "clause_status"), default=ClauseStatus.draft
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (
        sa.CheckConstraint(
            "(status = 'published') = (published_at IS NOT NULL)", name="published_at"
        ),
    )

    @property
    def label(self) -> str:
        return f"v{self.number}: {self.title}"
