"""Exam-plan accuracy: the plan's predicted retention on the exam date (aksio.courses.plan +
FSRS's simulator, as GET /courses/{id}/plan computes it) against simulated students who
follow the plan with the app's own scheduler.

Each student has ``--cards`` new cards and an exam in ``--days`` days. Every day they take
the course queue's new-card allowance (aksio.courses.plan.allowance, recomputed from what is
left, as the study queue does) and review every card that comes due that day, learning steps
included (aksio.study.scheduler: py-fsrs with the default settings, fuzz on). A review
recalls with the probability FSRS predicts for the card at that moment (then hard, good or
easy with FSRS's default shares), else fails (again); a new card's first rating follows
FSRS's default first-rating shares. On the exam morning (9:00) each student's retention is
the mean predicted recall of all their cards.

    .venv/bin/python bench/plan_accuracy.py [--students 200] [--cards 600] [--days 30] [--workers 2]
"""

from __future__ import annotations

import argparse
import heapq
import random
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from aksio.courses import plan
from aksio.courses.simulation import forecast
from aksio.prefs import StudySettings
from aksio.study import progress
from aksio.study.model import Schedule
from aksio.study.scheduler import SchedulerConfig, schedule_review

FIRST = (0.24, 0.094, 0.495, 0.171)  # again, hard, good, easy: fsrs-rs's default first-rating shares
RECALLED = (0.224, 0.631, 0.145)  # hard, good, easy when recalled
START = datetime(2026, 3, 2, tzinfo=UTC)


def student(seed: int, n_cards: int, days: int) -> float:
    rng = random.Random(seed)
    config = SchedulerConfig.from_settings(StudySettings())
    cards = [Schedule() for _ in range(n_cards)]
    margin = plan.margin_days(days)  # fixed when the exam date is set
    introduced = 0
    due: list[tuple[datetime, int]] = []
    for day in range(days):
        now = START + timedelta(days=day, hours=rng.uniform(8, 20))
        end = START + timedelta(days=day + 1)
        n_new = min(plan.allowance(n_cards - introduced, days - day, margin), n_cards - introduced)
        batch = list(range(introduced, introduced + n_new))
        introduced += n_new
        for i in batch:
            rating = rng.choices((1, 2, 3, 4), FIRST)[0]
            now += timedelta(seconds=rng.uniform(5, 15))
            cards[i] = review(cards[i], rating, now, config, rng)
            heapq.heappush(due, (cards[i].due, i))
        while due and due[0][0] < end:
            at, i = heapq.heappop(due)
            now = max(now, at) + timedelta(seconds=rng.uniform(5, 15))
            card = cards[i]
            elapsed = (now - card.last_review).total_seconds() / 86400
            if rng.random() < progress.recall(elapsed, card.stability):
                rating = rng.choices((2, 3, 4), RECALLED)[0]
            else:
                rating = 1
            cards[i] = review(card, rating, now, config, rng)
            heapq.heappush(due, (cards[i].due, i))
    exam = START + timedelta(days=days, hours=9)
    recalls = [progress.recall((exam - c.last_review).total_seconds() / 86400, c.stability) for c in cards]
    return sum(recalls) / len(recalls)


def review(card: Schedule, rating: int, at: datetime, config: SchedulerConfig, rng: random.Random) -> Schedule:
    s = schedule_review(card, rating, at, config, draw=rng.random())
    return Schedule(
        state=s.state,
        step=s.step,
        stability=s.stability,
        difficulty=s.difficulty,
        due=s.due,
        last_review=s.last_review,
        reps=card.reps + 1,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--cards", type=int, default=600)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    per_day = plan.allowance(args.cards, args.days)
    t0 = time.perf_counter()
    sim = forecast(new_cards=args.cards, days=args.days, per_day=per_day, desired=0.9, parameters=None)
    predicted = sim.expected_recalled / args.cards
    plan_ms = (time.perf_counter() - t0) * 1000
    print(
        f"plan: {args.cards} new cards, exam in {args.days} days, margin {plan.margin_days(args.days)} days: "
        f"{per_day} new cards a day, peak {max(sim.reviews_per_day)} reviews a day, "
        f"predicted retention on the exam date {100 * predicted:.2f}% (computed in {plan_ms:.0f} ms)"
    )
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        n = args.students
        results = list(pool.map(student, range(n), [args.cards] * n, [args.days] * n))
    mean = statistics.fmean(results)
    sd = statistics.stdev(results) if len(results) > 1 else 0.0
    print(
        f"{args.students} simulated students following it: mean retention on the exam date {100 * mean:.2f}% "
        f"(sd {100 * sd:.2f} pt across students; {time.perf_counter() - t0:.0f} s)"
    )
    print(f"difference plan - students: {100 * (predicted - mean):+.2f} points (target within ±3)")


if __name__ == "__main__":
    main()
