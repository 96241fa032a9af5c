"""When a user is reminded to study, and what the reminder says. Pure.

One reminder per *study day* (the day as :mod:`aksio.study.days` counts it: in the user's
time zone, starting at ``dayStartsAtHour``), at the user's local ``reminderHour``: the first
time that wall-clock hour occurs within the study day. So with the day starting at 4 am, a
reminder hour of 2 am reminds at 2 am of the next calendar day, still within the same study
day. Cards count when they are due by the end of that study day.

Daylight saving time, by the rules of the IANA zone:

- spring forward, when the hour does not exist that day (02:00 in Europe/Oslo on the last
  Sunday of March): the reminder comes at the next valid instant, when the clocks jump (03:00);
- fall back, when the hour occurs twice: at its first occurrence only, once.

A study day whose weekday is one of the user's quiet days has no reminder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aksio.study.days import day_end, study_day, zone

DAYS_AHEAD = 8  # a week of quiet days at most, and the day after
QUIET_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Prefs:
    """What decides a user's reminders (from the study settings)."""

    enabled: bool = True
    hour: int | None = 18  # local; None: no reminders
    timezone: str = "UTC"
    day_starts_at_hour: int = 4
    quiet_days: frozenset[int] = frozenset()  # weekdays of study days, 0 = Monday

    @property
    def active(self) -> bool:
        return self.enabled and self.hour is not None


def prefs_of(settings: Any) -> Prefs:
    """The reminder preferences in a user's study settings (:class:`aksio.prefs.StudySettings`)."""
    return Prefs(
        enabled=bool(getattr(settings, "reminders_enabled", True)),
        hour=settings.reminder_hour,
        timezone=settings.timezone,
        day_starts_at_hour=settings.day_starts_at_hour,
        quiet_days=frozenset(QUIET_DAY_NAMES.index(d) for d in getattr(settings, "quiet_days", ()) or ()),
    )


@dataclass(frozen=True)
class Slot:
    """The reminder of one study day."""

    day: date  # the study day
    at: datetime  # when to remind (UTC)
    due_by: datetime  # cards due up to this instant count (the study day's end, UTC)

    @property
    def key(self) -> str:
        return self.day.isoformat()


def local_instant(day: date, hour: int, timezone: str) -> datetime:
    """The instant (UTC) of ``hour``:00 local time on calendar day ``day``.

    ``fold=0`` reads a wall time in a gap with the offset before the gap, which is the
    instant the clocks jump (the next valid one), and a repeated wall time as its first
    occurrence."""
    return datetime.combine(day, time(hour=hour), tzinfo=zone(timezone)).astimezone(UTC)


def slot_of(day: date, prefs: Prefs) -> Slot:
    """The reminder slot of study day ``day``."""
    assert prefs.hour is not None
    calendar_day = day if prefs.hour >= prefs.day_starts_at_hour else day + timedelta(days=1)
    return Slot(
        day=day,
        at=local_instant(calendar_day, prefs.hour, prefs.timezone),
        due_by=day_end(day, prefs.timezone, prefs.day_starts_at_hour),
    )


def next_slot(after: datetime, prefs: Prefs, last_sent: date | None = None) -> Slot | None:
    """The first reminder slot at or after ``after`` of a study day later than ``last_sent``
    that is not a quiet day; None when the user has no reminders."""
    if not prefs.active or len(prefs.quiet_days) >= 7:
        return None
    first = study_day(after, prefs.timezone, prefs.day_starts_at_hour) - timedelta(days=1)
    for offset in range(DAYS_AHEAD + 1):
        day = first + timedelta(days=offset)
        if (last_sent is not None and day <= last_sent) or day.weekday() in prefs.quiet_days:
            continue
        slot = slot_of(day, prefs)
        if slot.at >= after:
            return slot
    return None  # pragma: no cover - a week ahead always has a day that is not quiet


def last_sent(user: dict[str, Any]) -> date | None:
    """The study day a user was last reminded of (``lastReminderDay``), if any."""
    value = user.get("lastReminderDay")
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def message(due: int, deck: str | None, deck_due: int) -> tuple[str, str]:
    """The push's title and body: "12 cards due in Cell biology"."""
    cards = "1 card" if due == 1 else f"{due} cards"
    if deck and deck_due == due:
        return f"{cards} due in {deck}", "A few minutes now keeps them fresh."
    if deck:
        return f"{cards} due today", f"Most in {deck} ({deck_due})."
    return f"{cards} due today", "A few minutes now keeps them fresh."
