"""Study days in the user's time zone (Anki's day boundary) and the stats map."""

from __future__ import annotations

from datetime import UTC, date, datetime

from aksio.study import stats
from aksio.study.days import day_end, day_start, study_day


def test_day_starts_at_the_users_hour_in_their_zone() -> None:
    # 02:30 in Oslo (01:30 UTC, winter) is still the previous study day with a 4 am start
    assert study_day(datetime(2026, 1, 10, 1, 30, tzinfo=UTC), "Europe/Oslo", 4) == date(2026, 1, 9)
    assert study_day(datetime(2026, 1, 10, 3, 0, tzinfo=UTC), "Europe/Oslo", 4) == date(2026, 1, 10)
    # the same instant is another day in Los Angeles
    assert study_day(datetime(2026, 1, 10, 3, 0, tzinfo=UTC), "America/Los_Angeles", 4) == date(2026, 1, 9)
    assert study_day(datetime(2026, 1, 10, 0, 0, tzinfo=UTC), "UTC", 0) == date(2026, 1, 10)
    assert day_start(date(2026, 1, 10), "Europe/Oslo", 4) == datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
    assert day_end(date(2026, 1, 10), "Europe/Oslo", 4) == datetime(2026, 1, 11, 3, 0, tzinfo=UTC)


def test_day_boundaries_across_daylight_saving() -> None:
    # Oslo springs forward at 02:00 on 2026-03-29: the study day of the 28th (04:00 to 04:00) is 23 hours
    start, end = day_start(date(2026, 3, 28), "Europe/Oslo", 4), day_end(date(2026, 3, 28), "Europe/Oslo", 4)
    assert (end - start).total_seconds() == 23 * 3600
    assert study_day(end, "Europe/Oslo", 4) == date(2026, 3, 29)


def test_unknown_zone_counts_in_utc() -> None:
    assert study_day(datetime(2026, 1, 10, 5, tzinfo=UTC), "Mars/Olympus", 4) == date(2026, 1, 10)


def record(s: dict | None, day: date, rating: int = 3, state: str = "review", note: str | None = None) -> dict:
    return stats.record_review(s, day=day, today=day, rating=rating, before_state=state, note_id=note, duration_ms=1500)


def test_streak_counts_consecutive_days_and_survives_one_day() -> None:
    s = None
    for d in (1, 2, 3, 5, 6):
        s = record(s, date(2026, 2, d))
    assert s is not None
    assert s["streak"] == {"current": 2, "longest": 3, "lastDay": "2026-02-06"}
    assert stats.current_streak(s, date(2026, 2, 7)) == 2  # today not studied yet
    assert stats.current_streak(s, date(2026, 2, 8)) == 0
    s = record(s, date(2026, 2, 4))  # an offline review synced late fills the gap
    assert s["streak"]["current"] == 6
    assert s["totalReviews"] == 6


def test_counts_retention_and_undo() -> None:
    day = date(2026, 2, 1)
    s = record(None, day, rating=3, state="new", note="n1")
    s = record(s, day, rating=1, state="review")
    s = record(s, day, rating=3, state="review")
    entry = s["days"]["2026-02-01"]
    assert entry == {"reviews": 3, "newCards": 1, "reviewCards": 2, "passed": 1, "timeMs": 4500}
    assert stats.true_retention([entry]) == (0.5, 2)
    assert stats.studied_notes_today(s, day) == {"n1"}
    assert stats.studied_notes_today(s, date(2026, 2, 2)) == set()
    assert stats.today_counts(s, day) == {"newCards": 1, "reviewCards": 2}
    s = stats.unrecord_review(s, day=day, rating=3, before_state="review", duration_ms=1500, longest_before=1)
    assert s["days"]["2026-02-01"] == {"reviews": 2, "newCards": 1, "reviewCards": 1, "passed": 0, "timeMs": 3000}
    assert s["totalReviews"] == 2
    assert s["byRating"] == {"again": 1, "hard": 0, "good": 1, "easy": 0}


def test_undo_of_the_only_review_of_a_day_ends_that_days_streak() -> None:
    s = record(None, date(2026, 2, 1))
    s = record(s, date(2026, 2, 2))
    s = stats.unrecord_review(
        s, day=date(2026, 2, 2), rating=3, before_state="review", duration_ms=1500, longest_before=1
    )
    assert "2026-02-02" not in s["days"]
    assert s["streak"] == {"current": 1, "longest": 1, "lastDay": "2026-02-01"}


def test_old_days_are_pruned_and_garbage_is_tolerated() -> None:
    s = record({"days": {"2020-01-01": {"reviews": 5}, "bad": "x"}, "totalReviews": "many"}, date(2026, 2, 1))
    assert list(s["days"]) == ["2026-02-01"]
    assert s["totalReviews"] == 1
    per_day = stats.reviews_per_day(s, date(2026, 2, 2), 3)
    assert [d["day"] for d in per_day] == ["2026-01-31", "2026-02-01", "2026-02-02"]
    assert [d["reviews"] for d in per_day] == [0, 1, 0]


def test_changes_name_only_what_a_review_changed() -> None:
    old = record(None, date(2026, 2, 1))
    old["days"]["2024-01-01"] = dict.fromkeys(stats.DAY_FIELDS, 1)  # will be pruned
    new = record(old, date(2026, 2, 2))
    diff = stats.changes(old, new)
    assert set(diff) == {
        ("days", "2026-02-02"),
        ("days", "2024-01-01"),
        ("totalReviews",),
        ("byRating",),
        ("streak",),
        ("today",),
    }
    assert diff[("days", "2024-01-01")] is stats.DELETED
    assert diff[("totalReviews",)] == 2
    assert stats.changes(new, new) == {}
