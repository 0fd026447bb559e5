"""UTC storage, Europe/Luxembourg display: the helpers that convert between them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LUXEMBOURG = ZoneInfo("Europe/Luxembourg")


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def to_local(value: datetime) -> datetime:
    """An aware datetime shown in Luxembourg time."""
    return value.astimezone(LUXEMBOURG)


def local_today() -> date:
    """Today's calendar date in Luxembourg."""
    return utcnow().astimezone(LUXEMBOURG).date()


def local_to_utc(value: datetime) -> datetime:
    """A naive wall-clock time in Luxembourg as an aware UTC datetime."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=LUXEMBOURG)
    return value.astimezone(UTC)


def local_date_at(day: date, hour: int = 12) -> datetime:
    """A Luxembourg calendar date as a UTC instant at the given local hour (noon by default)."""
    return datetime.combine(day, time(hour), tzinfo=LUXEMBOURG).astimezone(UTC)


def local_year_bounds(year: int) -> tuple[datetime, datetime]:
    """The UTC instants where a Luxembourg calendar year starts and the next one starts."""
    start = datetime(year, 1, 1, tzinfo=LUXEMBOURG).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=LUXEMBOURG).astimezone(UTC)
    return start, end


def humanize_delta(delta: timedelta) -> str:
    """A short English countdown such as ``3 days 4 hours`` or ``25 minutes``."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "closed"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours and days < 7:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if not days and minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts) or "less than a minute"


def years_between(earlier: date, later: date) -> int:
    """Whole years from one date to another (birthday arithmetic)."""
    years = later.year - earlier.year
    if (later.month, later.day) < (earlier.month, earlier.day):
        years -= 1
    return years
