"""Programmes, calls, sectors and HRDD clause versions: the data a facility is configured with."""

from __future__ import annotations

from datetime import datetime
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
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Two-stage calls only: the deadline of the full proposal.
    full_proposal_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    partner_countries: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    cofinancing_rate: Mapped[Decimal] = mapped_column(Percent, default=Decimal("50.00"))
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

    __table_args__ = (
        sa.UniqueConstraint("programme_id", "title", name="uq_calls_programme_title"),
        sa.CheckConstraint("closes_at > opens_at", name="window"),
        sa.CheckConstraint(
            "full_proposal_closes_at IS NULL OR full_proposal_closes_at > closes_at",
            name="full_proposal_after_concept",
        ),
        sa.CheckConstraint("cofinancing_rate > 0 AND cofinancing_rate <= 100", name="rate"),
    )

    def __repr__(self) -> str:
        return f"<Call {self.id} {self.title!r}>"

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.opens_at <= now < self.closes_at

    def full_proposal_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.full_proposal_closes_at is not None and now < self.full_proposal_closes_at


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
