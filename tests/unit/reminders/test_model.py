"""Reminder slots: one per study day at the local hour, in the user's IANA zone, across DST."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aksio.reminders.model import Prefs, local_instant, message, next_slot, slot_of

Z = UTC


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_spring_forward_a_missing_hour_reminds_when_the_clocks_jump() -> None:
    # Europe/Oslo, 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC); 02:00 does not exist
    assert local_instant(date(2026, 3, 29), 2, "Europe/Oslo") == utc(2026, 3, 29, 1)
    assert local_instant(date(2026, 3, 29), 2, "Europe/Oslo").astimezone(ZoneInfo("Europe/Oslo")).hour == 3
    assert local_instant(date(2026, 3, 29), 3, "Europe/Oslo") == utc(2026, 3, 29, 1)  # the same instant
    assert local_instant(date(2026, 3, 28), 2, "Europe/Oslo") == utc(2026, 3, 28, 1)  # the day before: CET


def test_fall_back_a_repeated_hour_reminds_once_at_its_first_occurrence() -> None:
    # Europe/Oslo, 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:00-03:00 happens twice
    prefs = Prefs(hour=2, timezone="Europe/Oslo", day_starts_at_hour=0)
    first = next_slot(utc(2026, 10, 24, 12), prefs)
    assert first is not None
    assert first.at == utc(2026, 10, 25, 0)  # 02:00 CEST
    after = next_slot(first.at + timedelta(microseconds=1), prefs, last_sent=first.day)
    assert after is not None
    assert after.at == utc(2026, 10, 26, 1)  # the next day, 02:00 CET: not the second 02:00 of the 25th


@pytest.mark.parametrize(
    ("zone", "hour", "expected"),
    [
        ("Pacific/Tongatapu", 18, utc(2026, 11, 27, 5)),  # UTC+13
        ("Pacific/Honolulu", 18, utc(2026, 11, 27, 4)),  # UTC-10: still the 26th there
        ("UTC", 18, utc(2026, 11, 27, 18)),
        ("Asia/Kolkata", 7, utc(2026, 11, 28, 1, 30)),  # UTC+5:30
    ],
)
def test_the_reminder_is_at_the_local_hour(zone: str, hour: int, expected: datetime) -> None:
    now = utc(2026, 11, 27, 3)
    slot = next_slot(now, Prefs(hour=hour, timezone=zone))
    assert slot is not None
    assert slot.at == expected
    assert slot.at.astimezone(ZoneInfo(zone)).hour == hour


def test_with_the_day_starting_at_4_a_2_am_reminder_belongs_to_the_day_before() -> None:
    prefs = Prefs(hour=2, timezone="UTC", day_starts_at_hour=4)
    slot = slot_of(date(2026, 11, 27), prefs)
    assert slot.at == utc(2026, 11, 28, 2)  # the next calendar day, still study day 27
    assert slot.due_by == utc(2026, 11, 28, 4)  # cards due until the study day ends
    assert next_slot(utc(2026, 11, 28, 1), prefs) == slot


def test_cards_count_until_the_study_day_ends_in_the_users_zone() -> None:
    slot = slot_of(date(2026, 11, 27), Prefs(hour=18, timezone="Pacific/Honolulu", day_starts_at_hour=4))
    assert slot.due_by == utc(2026, 11, 28, 14)  # 04:00 HST on the 28th


def test_one_reminder_per_study_day_and_none_on_quiet_days() -> None:
    prefs = Prefs(hour=9, timezone="Europe/Oslo", quiet_days=frozenset({5, 6}))  # weekends off
    slots, after, last = [], utc(2026, 11, 23), None  # Monday
    for _ in range(10):
        slot = next_slot(after, prefs, last)
        assert slot is not None
        slots.append(slot)
        after, last = slot.at + timedelta(seconds=1), slot.day
    assert [s.day.weekday() for s in slots] == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]
    assert len({s.day for s in slots}) == 10


def test_a_change_of_hour_takes_effect_the_same_day() -> None:
    now = utc(2026, 11, 27, 10)  # 11:00 in Oslo
    later_today = next_slot(now, Prefs(hour=12, timezone="Europe/Oslo"))
    assert later_today is not None
    assert later_today.at == utc(2026, 11, 27, 11)
    passed = next_slot(now, Prefs(hour=9, timezone="Europe/Oslo"))  # 9:00 has passed: tomorrow
    assert passed is not None
    assert passed.at == utc(2026, 11, 28, 8)
    elsewhere = next_slot(now, Prefs(hour=12, timezone="America/New_York"))  # a new zone counts at once
    assert elsewhere is not None
    assert elsewhere.at == utc(2026, 11, 27, 17)


def test_no_reminders_when_off_or_every_day_quiet() -> None:
    now = utc(2026, 11, 27)
    assert next_slot(now, Prefs(enabled=False)) is None
    assert next_slot(now, Prefs(hour=None)) is None
    assert next_slot(now, Prefs(quiet_days=frozenset(range(7)))) is None


def test_over_a_year_in_many_zones_each_study_day_gets_exactly_one_slot_in_order() -> None:
    rng = random.Random(3)
    # hours that fall in each zone's spring gap (or repeat in its autumn), and a random one
    zones = {"Europe/Oslo": 2, "America/New_York": 2, "Australia/Lord_Howe": 2, "Pacific/Chatham": 3, "UTC": 7}
    gaps = 0
    for zone, hour in [*zones.items(), ("America/Santiago", rng.randrange(24))]:
        prefs = Prefs(hour=hour, timezone=zone, day_starts_at_hour=rng.choice([0, 4]))
        after, last, days = utc(2026, 1, 1), None, []
        while after < utc(2027, 1, 1):
            slot = next_slot(after, prefs, last)
            assert slot is not None
            assert slot.at >= after
            local = slot.at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
            wall = local.replace(minute=0, second=0, microsecond=0, hour=prefs.hour)
            if local != wall:  # only where the hour does not exist that day: the next valid instant
                gap = wall.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).astimezone(ZoneInfo(zone))
                assert gap.replace(tzinfo=None) != wall
                assert wall < local <= wall + timedelta(hours=1)
                gaps += 1
            days.append(slot.day)
            after, last = slot.at + timedelta(microseconds=1), slot.day
        assert days == sorted(set(days))
        assert days[1:] == [d + timedelta(days=1) for d in days[:-1]], zone
    assert gaps >= 3  # the spring gaps of Oslo, New York and Lord Howe were met


def test_the_message_names_the_count_and_the_deck() -> None:
    assert message(12, "Cell biology", 12) == ("12 cards due in Cell biology", "A few minutes now keeps them fresh.")
    assert message(1, "Cell biology", 1)[0] == "1 card due in Cell biology"
    assert message(20, "Cell biology", 12) == ("20 cards due today", "Most in Cell biology (12).")
    assert message(3, None, 0)[0] == "3 cards due today"
