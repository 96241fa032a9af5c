"""Mastery accuracy: the aggregate-based mastery (aksio.study.progress, from the histogram
the review transaction keeps) against the exact mean over every card, after simulated days
of reviews. Pure: the app's own review computation (aksio.study.review.apply_review, FSRS
through py-fsrs) on cards held in memory, no I/O.

A student adds ``--new`` cards a day and reviews everything due each day (a session at a
random hour); each review recalls with the probability FSRS predicts (rated good, or easy
one time in five) or fails (again). At the end: the mean predicted recall of the seen cards
and the share above the desired retention, exact and from the aggregates, now and 30 days
later with no more reviews.

    .venv/bin/python bench/mastery_accuracy.py [--cards 3000] [--days 60] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from aksio.prefs import StudySettings
from aksio.study import progress
from aksio.study.model import Content, Schedule, new_card
from aksio.study.review import apply_review
from aksio.study.scheduler import SchedulerConfig

DECKS = ("deck-a", "deck-b", "deck-c")


def simulate(n_cards: int, days: int, new_per_day: int, seed: int) -> tuple[dict[str, dict], dict, datetime]:
    rng = random.Random(seed)
    settings = StudySettings(new_cards_per_day=new_per_day, reviews_per_day=100000)
    config = SchedulerConfig.from_settings(settings)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    cards: dict[str, dict] = {}
    for i in range(n_cards):
        cid, doc = new_card(DECKS[i % len(DECKS)], Content(front=f"q{i}", back="a"), note=None, tags=[], now=start)
        cards[cid] = doc
    order = list(cards)
    stats: dict = {}
    introduced = 0
    now = start
    for day in range(days):
        now = start + timedelta(days=day, hours=rng.uniform(7, 22))
        end = now + timedelta(hours=2)
        fresh = order[introduced : introduced + new_per_day]
        introduced += len(fresh)
        while True:
            due = [c for c, d in cards.items() if d["queue"] in ("learning", "review") and d["due"] <= end]
            pending = fresh + sorted(due, key=lambda c: cards[c]["due"])
            fresh = []
            if not pending:
                break
            for cid in pending:
                card = cards[cid]
                before = Schedule.from_stored(card)
                now = max(now, before.due or now) if before.state != "new" else now
                now += timedelta(seconds=rng.uniform(5, 20))
                if before.state == "new":
                    rating = 3 if rng.random() < 0.7 else 1
                else:
                    elapsed = (now - before.last_review).total_seconds() / 86400 if before.last_review else 0.0
                    p = progress.recall(elapsed, before.stability or 0.1)
                    rating = (4 if rng.random() < 0.2 else 3) if rng.random() < p else 1
                out = apply_review(
                    card_id=cid,
                    card=card,
                    rating=rating,
                    review_id=f"r{day}-{cid}-{now.timestamp()}",
                    reviewed_at=now,
                    duration_ms=rng.randint(2000, 15000),
                    now=now,
                    settings=settings,
                    config=config,
                    user_stats=stats,
                    next_due_at=None,
                )
                cards[cid] = card | out.after.to_stored()
                stats = out.stats
            if now > end:
                break
    return cards, stats, now


def exact(cards: dict[str, dict], at: datetime, desired: float) -> tuple[int, float, float]:
    seen = [Schedule.from_stored(d) for d in cards.values()]
    seen = [s for s in seen if s.state != "new" and s.stability and s.last_review]
    recalls = [progress.recall((at - s.last_review).total_seconds() / 86400, s.stability) for s in seen]
    return len(seen), sum(recalls) / len(recalls), sum(r >= desired for r in recalls) / len(recalls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=3000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--new", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    cards, stats, end = simulate(args.cards, args.days, args.new, args.seed)
    desired = 0.9
    entries = list(stats["decks"].values())
    keys = sum(len(e["seen"]) for e in entries)
    print(
        f"{args.cards} cards in {len(DECKS)} decks, {args.days} days, {stats['totalReviews']} reviews, "
        f"{keys} histogram keys ({time.perf_counter() - started:.1f} s)"
    )
    worst = 0.0
    for label, at in (("now", end), ("in 30 days, no reviews", end + timedelta(days=30))):
        n, mean, share = exact(cards, at, desired)
        agg = progress.mastery(entries, at, desired, progress.DEFAULT_DECAY)
        assert agg.mean_recall is not None
        assert agg.share_above is not None
        d_mean, d_share = 100 * (agg.mean_recall - mean), 100 * (agg.share_above - share)
        worst = max(worst, abs(d_mean))
        print(
            f"{label:>24}: seen {n} (aggregate {agg.seen}); mean recall exact {100 * mean:.2f}% "
            f"aggregate {100 * agg.mean_recall:.2f}% (diff {d_mean:+.2f} pt); share ≥ {desired} exact "
            f"{100 * share:.2f}% aggregate {100 * agg.share_above:.2f}% (diff {d_share:+.2f} pt)"
        )
    print(f"worst mean-recall difference: {worst:.2f} points (target ≤ 2)")


if __name__ == "__main__":
    main()
