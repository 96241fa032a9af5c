"""Study days, counted as Anki counts them: in the user's time zone, with the day
starting at ``day_starts_at_hour`` (4 am by default, so a review at 1 am belongs to the
day before). Pure.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except Exception:  # an unknown zone stored before validation existed: count in UTC
        return ZoneInfo("UTC")


def study_day(at: datetime, timezone: str, day_starts_at_hour: int) -> date:
    """The study day ``at`` belongs to."""
    local = at.astimezone(zone(timezone))
    return (local - timedelta(hours=day_starts_at_hour)).date()


def day_start(day: date, timezone: str, day_starts_at_hour: int) -> datetime:
    """The instant (UTC) study day ``day`` begins."""
    local = datetime.combine(day, time(hour=day_starts_at_hour), tzinfo=zone(timezone))
    return local.astimezone(UTC)


def day_end(day: date, timezone: str, day_starts_at_hour: int) -> datetime:
    """The instant (UTC) study day ``day`` ends (the next one begins)."""
    return day_start(day + timedelta(days=1), timezone, day_starts_at_hour)


def day_key(day: date) -> str:
    return day.isoformat()
