"""Reading and changing the agency's identity; the contrast rule for its colour."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.identity.models import AgencyIdentity

DEFAULT_COLOUR = "#0b4a9e"
MINIMUM_CONTRAST = 4.5  # WCAG AA for normal text: white links on the navigation bar
LOGO_MAX_BYTES = 200 * 1024
HEX = re.compile(r"#[0-9a-fA-F]{6}")
# Other server processes see a change within this many seconds (the identity is read on every
# page, so it is kept in memory rather than queried each time).
CACHE_SECONDS = 30


@dataclass(frozen=True)
class Identity:
    name: str
    colour: str
    has_logo: bool
    contact_email: str
    contact_text: str
    legal_url: str
    privacy_url: str
    version: int  # changes with every save (the logo's address carries it)


_cache: dict[tuple, tuple[float, Identity]] = {}
_tables: dict[tuple, bool] = {}


def _has_table(key: tuple) -> bool:
    if not _tables.get(key):
        _tables[key] = sa.inspect(db.engine).has_table(AgencyIdentity.__tablename__)
    return _tables[key]


def current_identity() -> Identity:
    """The identity in force (the configured AGENCY_NAME until an administrator sets one)."""
    key = (str(db.engine.url), id(db.engine))
    found = _cache.get(key)
    if found and time.monotonic() - found[0] < CACHE_SECONDS:
        return found[1]
    # A database not yet migrated to this table (a page before `tracker db upgrade`) shows the
    # configured name rather than failing.
    row = db.session.get(AgencyIdentity, 1) if _has_table(key) else None
    if row is None:
        identity = Identity(
            name=current_app.config.get("AGENCY_NAME", "Partnership tracker"),
            colour=DEFAULT_COLOUR,
            has_logo=False,
            contact_email="",
            contact_text="",
            legal_url="",
            privacy_url="",
            version=0,
        )
    else:
        identity = Identity(
            name=row.name,
            colour=row.colour,
            has_logo=row.logo is not None,
            contact_email=row.contact_email,
            contact_text=row.contact_text,
            legal_url=row.legal_url,
            privacy_url=row.privacy_url,
            version=int(row.updated_at.timestamp()),
        )
    _cache[key] = (time.monotonic(), identity)
    return identity


def forget() -> None:
    _cache.clear()


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_with_white(colour: str) -> float:
    """The contrast ratio of white text on this colour (1 to 21)."""
    return 1.05 / (luminance(colour) + 0.05)


def colour_problem(colour: str) -> str | None:
    if not HEX.fullmatch(colour or ""):
        return _("Give the colour as # and six hexadecimal digits, such as #0b4a9e.")
    ratio = contrast_with_white(colour)
    if ratio < MINIMUM_CONTRAST:
        return _(
            "White text on this colour has a contrast of %(ratio)s:1; choose a darker colour "
            "(at least %(minimum)s:1, so the navigation stays readable).",
            ratio=f"{ratio:.1f}",
            minimum=MINIMUM_CONTRAST,
        )
    return None


def save_identity(actor, values: dict, logo: tuple[bytes, str] | None, remove_logo: bool) -> None:
    """Store the identity (one row), audited, in the caller's transaction."""
    from tracker.audit.operations import record_change

    row = db.session.get(AgencyIdentity, 1)
    fields = ("name", "colour", "contact_email", "contact_text", "legal_url", "privacy_url")
    before = (
        {f: getattr(row, f) for f in fields} | {"logo": bool(row and row.logo)} if row else None
    )
    if row is None:
        row = AgencyIdentity(id=1)
        db.session.add(row)
    for name in fields:
        setattr(row, name, values[name])
    if logo is not None:
        row.logo, row.logo_type = logo
    elif remove_logo:
        row.logo, row.logo_type = None, None
    row.updated_at, row.updated_by_id = utcnow(), actor.id
    db.session.flush()
    record_change(
        "agency_identity",
        1,
        actor=actor,
        before=before,
        after={f: getattr(row, f) for f in fields} | {"logo": row.logo is not None},
    )
    forget()


def logo_of() -> tuple[bytes, str] | None:
    row = db.session.scalar(
        sa.select(AgencyIdentity).where(AgencyIdentity.id == 1, AgencyIdentity.logo.is_not(None))
    )
    return (row.logo, row.logo_type) if row else None
