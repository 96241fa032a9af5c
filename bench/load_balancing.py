"""Load balancing and easy days on a simulated student, through the review path itself
(``aksio.study.review.apply_review``, the pure core of review-card, with its ``dueDays``
histogram carried from review to review as the user document carries it).

One student, 3,000 cards (50 new a day for 60 days), 90 days. Each day they review every card
due by the end of that study day, and recall it with the probability FSRS predicts (py-fsrs's
retrievability under the same parameters): the simulated student is the model's student.

Printed for each setting: reviews, the coefficient of variation (stdev / mean) of daily review
counts over days 31-90 (after the ramp; it includes the deck's growth until day 60 and the
settling after it), the same around the trend (each day against the mean of the 7 days centred
on it: the walls a student feels), the mean predicted retention at review, and the share of
reviews on Saturdays and Sundays; the settings are: fuzz only (load balancing off), load
balancing on, load balancing with Saturday and Sunday as easy days.

Run: ``.venv/bin/python bench/load_balancing.py`` (``--days``, ``--cards``).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from aksio.prefs import StudySettings  # noqa: E402
from aksio.study.days import study_day  # noqa: E402
from aksio.study.model import Schedule  # noqa: E402
from aksio.study.review import apply_review  # noqa: E402
from aksio.study.scheduler import SchedulerConfig, build, to_fsrs  # noqa: E402

START = date(2026, 1, 5)  # a Monday


def simulate(settings: StudySettings, days: int, cards: int, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    config = SchedulerConfig.from_settings(settings)
    model = build(config)
    per_day = max(1, cards // 60)
    deck: dict[str, dict[str, Any]] = {}
    due_days: Any = None
    daily: list[int] = []
    weekend = 0
    predicted: list[float] = []
    for d in range(days):
        today = START + timedelta(days=d)
        noon = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
        end = noon + timedelta(hours=12)
        for _ in range(per_day if len(deck) < cards else 0):
            deck[uuid.UUID(int=rng.getrandbits(128)).hex] = Schedule(state="new").to_stored()
        todo = [cid for cid, c in deck.items() if c.get("state") == "new" or (c.get("due") and c["due"] < end)]
        count = 0
        for i, card_id in enumerate(todo):
            at = noon + timedelta(seconds=i)
            card = deck[card_id]
            before = Schedule.from_stored(card)
            if before.state == "new":
                rating = 3
            else:
                p = float(model.get_card_retrievability(to_fsrs(before, at), current_datetime=at))
                predicted.append(p)
                rating = 3 if rng.random() < p else 1
                count += 1

            def review(card_id: str, rating: int, at: datetime) -> None:
                nonlocal due_days
                outcome = apply_review(
                    card_id=card_id,
                    card=deck[card_id],
                    rating=rating,
                    review_id=uuid.UUID(int=rng.getrandbits(128)).hex,
                    reviewed_at=at,
                    duration_ms=None,
                    now=at,
                    settings=settings,
                    config=config,
                    user_stats=None,
                    next_due_at=None,
                    due_days=due_days,
                )
                deck[card_id] = outcome.after.to_stored()
                due_days = outcome.due_days

            review(card_id, rating, at)
            # learning steps: the same day again until it graduates (not counted as review load)
            while deck[card_id]["state"] in ("learning", "relearning") and deck[card_id]["due"] < end:
                at = max(at, deck[card_id]["due"])
                review(card_id, 3, at)
        daily.append(count)
        if study_day(noon, "UTC", 4).weekday() >= 5:
            weekend += count
    tail = daily[30:]
    # day-to-day variation around the trend (the deck grows until day 60, then reviews settle):
    # each day against the mean of the 7 days centred on it
    ratios = [daily[i] / statistics.fmean(daily[i - 3 : i + 4]) for i in range(30, len(daily) - 3)]
    return {
        "reviews": sum(daily),
        "cv": statistics.pstdev(tail) / statistics.fmean(tail),
        "cv_trend": statistics.pstdev(ratios),
        "retention": statistics.fmean(predicted),
        "weekend": weekend / sum(daily),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--cards", type=int, default=3000)
    args = parser.parse_args()
    base = StudySettings(load_balancing=False)
    rows = [
        ("fuzz only", base),
        ("load balancing", replace(base, load_balancing=True)),
        ("load balancing + easy Sat/Sun", replace(base, load_balancing=True, easy_days=["sat", "sun"])),
    ]
    print(
        f"{'setting':<30} {'reviews':>7} {'CV days 31-90':>13} {'CV vs 7-day mean':>16} "
        f"{'pred. retention':>15} {'Sat+Sun share':>13}"
    )
    for name, settings in rows:
        r = simulate(settings, args.days, args.cards)
        print(
            f"{name:<30} {r['reviews']:>7} {r['cv']:>13.3f} {r['cv_trend']:>16.3f} "
            f"{r['retention'] * 100:>14.2f}% {r['weekend'] * 100:>12.1f}%",
            flush=True,
        )


if __name__ == "__main__":
    main()
