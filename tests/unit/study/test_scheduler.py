"""py-fsrs parity: what review-card stores equals what ``fsrs.Scheduler`` computes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import fsrs
import pytest

from aksio.settings import Settings
from aksio.study.model import Schedule
from aksio.study.review import apply_review
from aksio.study.scheduler import SchedulerConfig, fuzz_draw

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
# (rating, minutes after the previous review): learning, graduation, lapses, relearning, long gaps
SCRIPT = [
    (3, 0),
    (3, 1),
    (3, 10),
    (3, 60 * 24 * 3),
    (1, 60 * 24 * 9),
    (2, 10),
    (3, 10),
    (4, 60 * 24 * 2),
    (2, 60 * 24 * 20),
    (1, 60 * 24 * 60),
    (1, 5),
    (3, 15),
    (4, 60 * 24 * 1),
    (3, 60 * 24 * 200),
    (3, 60 * 24 * 2000),
]


def roundtrip(stored: dict[str, Any]) -> dict[str, Any]:
    """What Firestore hands back: the same map (datetimes stay UTC with microseconds)."""
    return dict(stored)


def run_ours(settings: Settings, config: SchedulerConfig) -> list[Schedule]:
    card: dict[str, Any] = Schedule(due=START).to_stored()
    at = START
    out = []
    for i, (rating, minutes) in enumerate(SCRIPT):
        at += timedelta(minutes=minutes)
        outcome = apply_review(
            card_id="card1",
            card=card,
            rating=rating,
            review_id=f"review-{i:04d}",
            reviewed_at=at,
            duration_ms=1000,
            now=at,
            settings=settings,
            config=config,
            user_stats=None,
            next_due_at=None,
        )
        card = roundtrip(outcome.after.to_stored())
        out.append(Schedule.from_stored(card))
    return out


def run_fsrs(scheduler: fsrs.Scheduler, draws: list[float] | None = None) -> list[fsrs.Card]:
    card = fsrs.Card(card_id=1, due=START)
    at = START
    out = []
    for i, (rating, minutes) in enumerate(SCRIPT):
        at += timedelta(minutes=minutes)
        if draws is not None:
            draw = draws[i]
            fsrs.scheduler.random = lambda draw=draw: draw  # type: ignore[attr-defined]
        card, _ = scheduler.review_card(card, fsrs.Rating(rating), review_datetime=at)
        out.append(card)
    return out


def assert_same(ours: list[Schedule], theirs: list[fsrs.Card]) -> None:
    names = {fsrs.State.Learning: "learning", fsrs.State.Review: "review", fsrs.State.Relearning: "relearning"}
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a.state == names[b.state], i
        assert a.step == b.step, i
        assert a.stability == b.stability, i  # exact: the same floating-point operations
        assert a.difficulty == b.difficulty, i
        assert a.due == b.due, i
        assert a.last_review == b.last_review, i


@pytest.mark.parametrize(
    "settings",
    [
        Settings(),
        Settings(
            desired_retention=0.8,
            learning_steps_minutes=[2.0, 15.0, 60.0],
            relearning_steps_minutes=[5.0, 30.0],
            maximum_interval_days=90,
        ),
        Settings(learning_steps_minutes=[], relearning_steps_minutes=[], desired_retention=0.97),
    ],
)
def test_parity_with_fuzz_off(settings: Settings) -> None:
    config = SchedulerConfig.from_settings(settings, {"enableFuzzing": False})
    scheduler = fsrs.Scheduler(
        desired_retention=settings.desired_retention,
        learning_steps=[timedelta(minutes=m) for m in settings.learning_steps_minutes],
        relearning_steps=[timedelta(minutes=m) for m in settings.relearning_steps_minutes],
        maximum_interval=settings.maximum_interval_days,
        enable_fuzzing=False,
    )
    assert_same(run_ours(settings, config), run_fsrs(scheduler))


def test_parity_with_fuzz_on_given_the_same_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings()
    config = SchedulerConfig.from_settings(settings)
    assert config.enable_fuzzing
    monkeypatch.setattr(fsrs.scheduler, "random", fsrs.scheduler.random)
    draws = [fuzz_draw("card1", f"review-{i:04d}") for i in range(len(SCRIPT))]
    ours = run_ours(settings, config)
    assert_same(ours, run_fsrs(fsrs.Scheduler(enable_fuzzing=True), draws))
    unfuzzed = run_fsrs(fsrs.Scheduler(enable_fuzzing=False))
    assert any(a.due != b.due for a, b in zip(ours, unfuzzed, strict=True))  # fuzz did act


def test_optimised_parameters_are_used() -> None:
    params = list(fsrs.scheduler.DEFAULT_PARAMETERS)
    params[0] = 0.5
    settings = Settings()
    config = SchedulerConfig.from_settings(settings, {"parameters": params, "enableFuzzing": False})
    ours = run_ours(settings, config)
    assert_same(ours, run_fsrs(fsrs.Scheduler(parameters=params, enable_fuzzing=False)))
    bad = SchedulerConfig.from_settings(settings, {"parameters": [1.0, 2.0]})
    assert bad.parameters is None


def test_fuzz_is_deterministic_per_review() -> None:
    assert fuzz_draw("a", "r1") == fuzz_draw("a", "r1")
    assert fuzz_draw("a", "r1") != fuzz_draw("a", "r2")
    draws = [fuzz_draw("c", f"r{i}") for i in range(2000)]
    assert 0 <= min(draws) < 0.01
    assert 0.99 < max(draws) < 1


@pytest.mark.parametrize("seed", range(20))
def test_parity_on_random_sequences(seed: int) -> None:
    rng = random.Random(seed)
    settings = Settings(
        desired_retention=rng.choice([0.7, 0.8, 0.9, 0.97]), maximum_interval_days=rng.choice([30, 36500])
    )
    config = SchedulerConfig.from_settings(settings, {"enableFuzzing": False})
    scheduler = fsrs.Scheduler(
        desired_retention=settings.desired_retention,
        maximum_interval=settings.maximum_interval_days,
        enable_fuzzing=False,
    )
    card: dict[str, Any] = Schedule(due=START).to_stored()
    theirs = fsrs.Card(card_id=1, due=START)
    at = START
    for i in range(40):
        at += timedelta(minutes=rng.choice([1, 7, 60, 60 * 20, 60 * 24 * 3, 60 * 24 * 40]), seconds=rng.randrange(60))
        rating = rng.choice([1, 2, 3, 3, 3, 4])
        outcome = apply_review(
            card_id="c", card=card, rating=rating, review_id=f"r{i:08d}", reviewed_at=at, duration_ms=None,
            now=at, settings=settings, config=config, user_stats=None, next_due_at=None,
        )  # fmt: skip
        card = outcome.after.to_stored()
        theirs, _ = scheduler.review_card(theirs, fsrs.Rating(rating), review_datetime=at)
        assert_same([Schedule.from_stored(card)], [theirs])
