"""One row: how the installation presents the agency on pages, e-mails, receipts and reports."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker.core.db import UTCDateTime
from tracker.core.time import utcnow
from tracker.extensions import db


class AgencyIdentity(db.Model):
    __tablename__ = "agency_identity"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    colour: Mapped[str] = mapped_column(sa.String(7), default="#0b4a9e")  # the navigation bar's
    logo: Mapped[bytes | None] = mapped_column(sa.LargeBinary)  # PNG or JPEG, checked
    logo_type: Mapped[str | None] = mapped_column(sa.String(20))
    contact_email: Mapped[str] = mapped_column(sa.String(200), default="")
    contact_text: Mapped[str] = mapped_column(sa.String(300), default="")
    legal_url: Mapped[str] = mapped_column(sa.String(300), default="")
    privacy_url: Mapped[str] = mapped_column(sa.String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
