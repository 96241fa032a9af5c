"""Courses without I/O: exam dates in the user's time zone, ordered sections and their
limits, the plan's margin and allowance, its fit against the daily limits, and the mean
recall of a card kept on schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from aksio import errors
from aksio.courses import model, plan
from aksio.study import progress

NOW = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # already 3 March in Tokyo


def test_exam_date_is_checked_in_the_users_time_zone() -> None:
    assert model.check_exam_date(date(2026, 3, 2), NOW, "UTC") == "2026-03-02"
    with pytest.raises(errors.Invalid) as err:
        model.check_exam_date(date(2026, 3, 2), NOW, "Asia/Tokyo")
    assert err.value.code == "exam_date_in_past"
    assert model.check_exam_date(date(2026, 3, 3), NOW, "Asia/Tokyo") == "2026-03-03"


def test_sections_keep_ids_take_new_ones_and_refuse_others() -> None:
    first = model.apply_sections([], [(None, "A"), (None, "B")])
    a, b = first[0]["id"], first[1]["id"]
    assert a != b
    again = model.apply_sections(first, [(b, "B2"), (None, "C")])
    assert [s["name"] for s in again] == ["B2", "C"]
    assert again[0]["id"] == b
    assert model.removed_sections(first, again) == [a]
    with pytest.raises(errors.NotFound):
        model.apply_sections(first, [("elsewhere", "X")])
    with pytest.raises(errors.Invalid):
        model.apply_sections(first, [(a, "A"), (a, "A again")])
    with pytest.raises(errors.Conflict) as err:
        model.apply_sections([], [(None, str(i)) for i in range(model.MAX_SECTIONS + 1)])
    assert err.value.details == {"limit": model.MAX_SECTIONS}


@pytest.mark.parametrize(("days_left", "margin"), [(0, 0), (1, 0), (2, 1), (5, 1), (10, 2), (30, 6), (35, 7), (365, 7)])
def test_margin(days_left: int, margin: int) -> None:
    assert plan.margin_days(days_left) == margin


def test_allowance_sees_every_card_before_the_margin() -> None:
    assert plan.allowance(600, 30) == 25  # 600 over the 24 days before a 6-day margin
    assert plan.allowance(0, 30) == 0
    assert plan.allowance(10, 0) == 0
    left, per_day = 600, []
    margin = plan.margin_days(30)
    for day in range(30):
        n = min(left, plan.allowance(left, 30 - day, margin))
        per_day.append(n)
        left -= n
    assert left == 0
    assert per_day[-6:] == [0] * 6
    # a student who fell behind has what is left spread over the days left
    assert plan.allowance(100, 4, margin=6) == 25


def test_fit_says_what_would_fit() -> None:
    today = date(2026, 3, 2)
    ok = plan.fit(new_left=600, days_left=30, per_day=25, peak_reviews=120, new_limit=30, review_limit=200, today=today)
    assert (ok.fits, ok.suggestions) == (True, [])
    short = plan.fit(
        new_left=600, days_left=30, per_day=25, peak_reviews=250, new_limit=20, review_limit=200, today=today
    )
    assert short.fits is False
    kinds = {s["kind"]: s for s in short.suggestions}
    assert kinds["higherNewLimit"]["newCardsPerDay"] == 25
    assert kinds["fewerCards"]["cards"] == 480
    assert kinds["higherReviewLimit"]["reviewsPerDay"] == 250
    later = date.fromisoformat(kinds["laterExam"]["examDate"])
    days = (later - today).days
    assert plan.allowance(600, days) <= 20
    assert plan.allowance(600, days - 1) > 20  # the first date that fits


def test_steady_recall_is_the_curves_mean_over_an_interval() -> None:
    decay = progress.DEFAULT_DECAY
    factor = 0.9 ** (-1 / decay) - 1
    interval = (0.9 ** (-1 / decay) - 1) / factor * 10.0  # a card of stability 10 at 90 %
    steps = 10000
    mean = sum(progress.recall(interval * (i + 0.5) / steps, 10.0, decay) for i in range(steps)) / steps
    assert plan.steady_recall(0.9, decay) == pytest.approx(mean, abs=1e-4)
    assert 0.9 < plan.steady_recall(0.9, decay) < 1.0
