"""FSRS through py-fsrs (``fsrs`` 6.x), built from the user's settings. Pure.

``fsrs`` is imported inside the functions here, so only the code paths that schedule
(review-card) pay for it.

Fuzz: py-fsrs draws its fuzz from the process-wide ``random.random()``. Here the draw is
seeded by the card and review id instead, so a transaction retried after contention, or
a review computed twice, lands on the same due date; with the same draw the interval is
exactly py-fsrs's (tests/unit/study/test_scheduler.py checks both with fuzz off and on).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from aksio.study.model import Schedule, State, utc

if TYPE_CHECKING:  # pragma: no cover
    from aksio.prefs import StudySettings as Settings
    from aksio.study.load import Balancer

_STATE_TO_FSRS = {"learning": 1, "review": 2, "relearning": 3}
_FSRS_TO_STATE: dict[int, State] = {1: "learning", 2: "review", 3: "relearning"}


@dataclass(frozen=True)
class SchedulerConfig:
    desired_retention: float = 0.9
    learning_steps_minutes: tuple[float, ...] = (1.0, 10.0)
    relearning_steps_minutes: tuple[float, ...] = (10.0,)
    maximum_interval_days: int = 36500
    enable_fuzzing: bool = True
    parameters: tuple[float, ...] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, fsrs_options: dict[str, Any] | None = None) -> SchedulerConfig:
        """From the user's settings and the optional ``fsrs`` map of the user document
        (``parameters``: 21 optimised weights; ``enableFuzzing``: false only for tests)."""
        options = fsrs_options or {}
        params = options.get("parameters")
        parameters = None
        if isinstance(params, Sequence) and len(params) == 21 and all(isinstance(p, int | float) for p in params):
            parameters = tuple(float(p) for p in params)
        return cls(
            desired_retention=settings.desired_retention,
            learning_steps_minutes=tuple(settings.learning_steps_minutes),
            relearning_steps_minutes=tuple(settings.relearning_steps_minutes),
            maximum_interval_days=settings.maximum_interval_days,
            enable_fuzzing=options.get("enableFuzzing", True) is not False,
            parameters=parameters,
        )


def fuzz_draw(card_id: str, review_id: str) -> float:
    """A uniform draw in [0, 1) fixed by the card and the review."""
    digest = hashlib.sha256(f"{card_id}\x1f{review_id}".encode()).digest()
    return random.Random(digest).random()  # noqa: S311 - scheduling fuzz, not security


@cache
def _scheduler_class() -> Any:
    import fsrs

    class SeededScheduler(fsrs.Scheduler):
        """py-fsrs's scheduler with the fuzz draw given instead of taken from ``random``."""

        draw: float = 0.5
        balancer: Balancer | None = None

        def _get_fuzzed_interval(self, *, interval: timedelta) -> timedelta:
            interval_days = interval.days
            if interval_days < 2.5:
                return interval
            delta = 1.0
            for fuzz_range in fsrs.scheduler.FUZZ_RANGES:
                delta += fuzz_range["factor"] * max(
                    min(float(interval_days), fuzz_range["end"]) - fuzz_range["start"], 0.0
                )
            min_ivl = round(interval_days - delta)
            max_ivl = round(interval_days + delta)
            min_ivl = max(2, min_ivl)
            max_ivl = min(max_ivl, self.maximum_interval)
            min_ivl = min(min_ivl, max_ivl)
            chosen = None if self.balancer is None else self.balancer.choose(min_ivl, max_ivl, self.draw)
            if chosen is not None:  # the day in the range with room (aksio.study.load)
                return timedelta(days=chosen)
            fuzzed = (self.draw * (max_ivl - min_ivl + 1)) + min_ivl
            return timedelta(days=min(round(fuzzed), self.maximum_interval))

    return SeededScheduler


def build(config: SchedulerConfig, draw: float = 0.5, balancer: Balancer | None = None) -> Any:
    """A ``fsrs.Scheduler`` for ``config`` whose fuzz uses ``draw`` (over ``balancer``'s
    weights when given, uniformly otherwise)."""
    import fsrs

    kwargs: dict[str, Any] = {
        "desired_retention": config.desired_retention,
        "learning_steps": tuple(timedelta(minutes=m) for m in config.learning_steps_minutes),
        "relearning_steps": tuple(timedelta(minutes=m) for m in config.relearning_steps_minutes),
        "maximum_interval": config.maximum_interval_days,
        "enable_fuzzing": config.enable_fuzzing,
        "parameters": config.parameters or fsrs.scheduler.DEFAULT_PARAMETERS,
    }
    scheduler = _scheduler_class()(**kwargs)
    scheduler.draw = draw
    scheduler.balancer = balancer if config.enable_fuzzing else None
    return scheduler


def to_fsrs(schedule: Schedule, now: datetime) -> Any:
    import fsrs

    if schedule.state == "new":
        return fsrs.Card(card_id=0, state=fsrs.State.Learning, step=0, due=schedule.due or now)
    return fsrs.Card(
        card_id=0,
        state=fsrs.State(_STATE_TO_FSRS[schedule.state]),
        step=schedule.step,
        stability=schedule.stability,
        difficulty=schedule.difficulty,
        due=schedule.due or now,
        last_review=schedule.last_review,
    )


@dataclass(frozen=True)
class Scheduled:
    state: State
    step: int | None
    stability: float
    difficulty: float
    due: datetime
    last_review: datetime


def schedule_review(
    schedule: Schedule,
    rating: int,
    reviewed_at: datetime,
    config: SchedulerConfig,
    *,
    draw: float,
    balancer: Balancer | None = None,
) -> Scheduled:
    """The FSRS result of rating ``schedule`` at ``reviewed_at``."""
    import fsrs

    at = utc(reviewed_at)
    scheduler = build(config, draw, balancer)
    card, _ = scheduler.review_card(to_fsrs(schedule, at), fsrs.Rating(rating), review_datetime=at)
    return Scheduled(
        state=_FSRS_TO_STATE[int(card.state)],
        step=card.step,
        stability=float(card.stability),
        difficulty=float(card.difficulty),
        due=utc(card.due),
        last_review=utc(card.last_review),
    )
