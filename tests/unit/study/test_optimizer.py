"""Fitting a user's FSRS parameters (aksio.study.optimizer) on simulated students whose true
memory model is known (bench/fsrs_simulation.py: the same students the benchmark uses)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import fsrs
import fsrs_rs_python as rs

from aksio.study import optimizer
from bench.fsrs_simulation import DEFAULT, Student


def test_the_defaults_are_fsrs_6s_in_both_libraries() -> None:
    assert tuple(round(w, 4) for w in rs.DEFAULT_PARAMETERS) == optimizer.DEFAULT_PARAMETERS
    assert tuple(fsrs.scheduler.DEFAULT_PARAMETERS) == optimizer.DEFAULT_PARAMETERS


def log(card: str, day: str, rating: int, undone: bool = False) -> dict[str, object]:
    at = datetime.fromisoformat(day).replace(hour=10, tzinfo=UTC)
    return {"cardId": card, "studyDay": day, "rating": rating, "reviewedAt": at, "undoneAt": at if undone else None}


def test_items_are_the_reviews_a_day_or_more_after_the_previous_one_undone_ones_left_out() -> None:
    logs = [
        log("a", "2026-01-01", 3),
        log("a", "2026-01-01", 3),  # same day: short-term, kept in the history, not predicted
        log("a", "2026-01-04", 1),
        log("a", "2026-01-05", 3, undone=True),
        log("b", "2026-01-02", 4),
        {"cardId": "b", "studyDay": "nonsense", "rating": 3},
    ]
    items = optimizer.items_of(optimizer.reviews_of(logs))
    assert [i.reviews for i in items] == [((3, 0), (3, 0), (1, 3))]


def test_the_split_is_by_time_with_the_latest_days_tested() -> None:
    logs = [log(f"c{d}", f"2026-01-{d:02d}", 3) for d in range(1, 11)] + [
        log(f"c{d}", f"2026-01-{d + 1:02d}", 3) for d in range(1, 11)
    ]
    train, test = optimizer.split(optimizer.items_of(optimizer.reviews_of(logs)))
    assert train
    assert test
    assert max(i.day for i in train) < min(i.day for i in test)
    assert len(test) <= len(train) // 2


def student(seed: int, forgets_fast: bool) -> list[dict[str, object]]:
    rng = random.Random(seed)
    true = list(DEFAULT)
    if forgets_fast:  # a student whose memory is far from the default model's
        true[0:4] = [w * 0.25 for w in true[0:4]]
        true[20] = 0.5
    return Student(list(rs.check_and_fill_parameters(true)), rng).study(3000, DEFAULT)


def test_a_student_far_from_the_defaults_gets_parameters_that_predict_their_latest_reviews_better() -> None:
    fit = optimizer.optimise(None, optimizer.reviews_of(student(3, forgets_fast=True)))
    assert fit is not None
    assert fit.adopted
    assert fit.fitted.log_loss < fit.current.log_loss - 0.01
    assert fit.fitted.items == fit.current.items > 100


def test_the_current_parameters_are_what_a_fit_must_beat() -> None:
    reviews = optimizer.reviews_of(student(4, forgets_fast=True))
    first = optimizer.optimise(None, reviews)
    assert first is not None
    again = optimizer.optimise(first.parameters, reviews)  # the same fit again is no improvement
    assert again is not None
    assert not again.adopted


def test_too_few_reviews_fit_nothing() -> None:
    logs = student(5, forgets_fast=False)[: optimizer.MIN_REVIEWS - 1]
    assert optimizer.optimise(None, optimizer.reviews_of(logs)) is None


def test_short_term_weights_are_fitted_only_when_there_are_same_day_reviews() -> None:
    long_term = optimizer.items_of(optimizer.reviews_of([log("a", "2026-01-01", 3), log("a", "2026-01-03", 3)]))
    assert optimizer.has_short_term(long_term) is False
    same_day = optimizer.items_of(
        optimizer.reviews_of([log("a", "2026-01-01", 1), log("a", "2026-01-01", 3), log("a", "2026-01-03", 3)])
    )
    assert optimizer.has_short_term(same_day) is True
