"""Load balancing and easy days (aksio.study.load) and their place in a review."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from aksio.prefs import StudySettings
from aksio.study import load
from aksio.study.model import Schedule
from aksio.study.review import apply_review
from aksio.study.scheduler import SchedulerConfig

TODAY = date(2026, 3, 2)  # a Monday


def test_the_histogram_keeps_the_coming_days_and_drops_the_rest() -> None:
    stored = {"2026-03-01": 4, "2026-03-02": 3, "2026-08-30": 1, "bad": 2, "2026-03-05": "x", "2026-03-06": 0}
    assert load.histogram(stored, TODAY) == {date(2026, 3, 2): 3}
    assert load.histogram(None, TODAY) == {}


def test_a_review_moves_its_card_from_the_old_due_day_to_the_new_one() -> None:
    hist = {date(2026, 3, 2): 1, date(2026, 3, 9): 5}
    out = load.moved(hist, TODAY, date(2026, 3, 2), date(2026, 3, 9))
    assert out == {"2026-03-09": 6}
    assert load.moved({}, TODAY, None, TODAY + timedelta(days=load.HORIZON_DAYS)) == {}  # beyond the horizon


def test_the_balancer_picks_the_emptiest_days_most_and_is_fixed_by_the_draw() -> None:
    due = {TODAY + timedelta(days=d): n for d, n in {10: 40, 11: 0, 12: 40}.items()}
    balancer = load.Balancer(review_day=TODAY, due=due)
    picks = [balancer.choose(10, 12, k / 100) for k in range(100)]
    assert picks.count(11) > 95
    assert balancer.choose(10, 12, 0.37) == balancer.choose(10, 12, 0.37)
    # nothing to balance: FSRS's own fuzz decides (None)
    assert load.Balancer(review_day=TODAY, due={}).choose(10, 12, 0.5) is None


def test_an_easy_day_counts_as_fuller_than_it_is() -> None:
    saturday = TODAY + timedelta(days=5)
    balancer = load.Balancer(
        review_day=TODAY, due={saturday: 10, saturday + timedelta(days=1): 10}, easy_days=load.easy_weekdays(["sat"])
    )
    assert balancer.weight(5) < balancer.weight(6)
    # at half a normal day's load a light day weighs like the normal day
    even = load.Balancer(
        review_day=TODAY, due={saturday: 10, saturday - timedelta(days=1): 21}, easy_days=frozenset({5})
    )
    assert abs(even.weight(5) - even.weight(4)) < 1e-12


def review(card: dict, settings: StudySettings, due_days: object, review_id: str = "r1"):  # type: ignore[no-untyped-def]
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    return apply_review(
        card_id="c1",
        card=card,
        rating=3,
        review_id=review_id,
        reviewed_at=at,
        duration_ms=None,
        now=at,
        settings=settings,
        config=SchedulerConfig.from_settings(settings),
        user_stats=None,
        next_due_at=None,
        due_days=due_days,
    )


def mature_card() -> dict:
    at = datetime(2026, 2, 20, 12, tzinfo=UTC)
    return Schedule(
        state="review", stability=20.0, difficulty=5.0, due=at + timedelta(days=10), last_review=at, reps=5
    ).to_stored()


def test_a_review_lands_on_the_emptiest_day_of_its_fuzz_range_and_records_it() -> None:
    settings = StudySettings()
    plain = review(mature_card(), replace(settings, load_balancing=False), None)
    interval = (plain.after.due.date() - TODAY).days
    # fill every day of a wide window around the interval but one
    crowded = {(TODAY + timedelta(days=d)).isoformat(): 50 for d in range(interval - 6, interval + 7)}
    free = interval + 2
    del crowded[(TODAY + timedelta(days=free)).isoformat()]
    balanced = review(mature_card(), settings, crowded)
    assert (balanced.after.due.date() - TODAY).days == free
    assert balanced.due_days[(TODAY + timedelta(days=free)).isoformat()] == 1
    assert review(mature_card(), settings, crowded).after.due == balanced.after.due  # same review, same day
    off = review(mature_card(), replace(settings, load_balancing=False), crowded)
    assert off.after.due == plain.after.due
