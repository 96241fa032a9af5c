"""Fitting a user's FSRS parameters to their own review logs. Pure (no I/O).

The fit is fsrs-rs's (``fsrs-rs-python``, the Rust FSRS behind Anki): ``compute_parameters``
over every card's review history, ``evaluate`` for log loss and RMSE. What is decided here:

* the data set: each card's reviews in order (undone reviews left out), ``delta_t`` the number
  of study days since the card's previous review (0 for the first, and for a second review the
  same day: short-term, as Anki counts it); one item per review that has a previous one and
  comes at least a day after it (the recall being predicted);
* the split: by time, like a user meets it. The items whose review is in the latest 20% of the
  user's review days are the test set; the parameters are fitted on the earlier ones;
* the fit: FSRS-6's short-term weights (same-day reviews) are fitted only when the histories
  hold same-day reviews (:func:`has_short_term`);
* adoption: the fitted parameters are adopted only when their log loss on the test set is lower
  than the current parameters' (the defaults, or an earlier fit). A user with fewer than
  :data:`MIN_REVIEWS` reviews keeps what they have.

``fsrs_rs_python`` is imported inside the functions: only the optimizer job pays for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

MIN_REVIEWS = 400
TEST_SHARE = 0.2
DEFAULT_PARAMETERS: tuple[float, ...] = (
    0.212,
    1.2931,
    2.3065,
    8.2956,
    6.4133,
    0.8334,
    3.0194,
    0.001,
    1.8722,
    0.1666,
    0.796,
    1.4835,
    0.0614,
    0.2629,
    1.6483,
    0.6014,
    1.8729,
    0.5425,
    0.0912,
    0.0658,
    0.1542,
)  # FSRS-6's defaults (py-fsrs and fsrs-rs agree; tests/unit/study/test_optimizer.py checks)


@dataclass(frozen=True)
class Review:
    """One logged review as the optimizer needs it."""

    card_id: str
    day: date  # the study day
    order: float  # the review instant (seconds), to order same-day reviews
    rating: int


@dataclass(frozen=True)
class Item:
    """One predicted recall: a card's reviews up to and including ``reviews[-1]``."""

    reviews: tuple[tuple[int, int], ...]  # (rating, delta_t days)
    day: date  # the study day of the last review


@dataclass(frozen=True)
class Metrics:
    log_loss: float
    rmse: float
    items: int

    def stored(self) -> dict[str, Any]:
        return {"logLoss": round(self.log_loss, 6), "rmse": round(self.rmse, 6), "items": self.items}


@dataclass(frozen=True)
class Fit:
    """The outcome of one optimisation: what was fitted, how both sets did on the test items,
    and whether the fitted parameters are adopted."""

    parameters: tuple[float, ...]
    fitted: Metrics
    current: Metrics
    train_items: int
    reviews: int

    @property
    def adopted(self) -> bool:
        return self.fitted.log_loss < self.current.log_loss


def reviews_of(logs: Iterable[Mapping[str, Any]]) -> list[Review]:
    """The reviews in stored review logs (undone ones and malformed ones left out)."""
    out = []
    for log in logs:
        if log.get("undoneAt") is not None:
            continue
        rating, card_id, day, at = log.get("rating"), log.get("cardId"), log.get("studyDay"), log.get("reviewedAt")
        if not isinstance(rating, int) or not 1 <= rating <= 4 or not isinstance(card_id, str):
            continue
        try:
            study_day = date.fromisoformat(str(day))
        except ValueError:
            continue
        order = at.timestamp() if isinstance(at, datetime) else 0.0
        out.append(Review(card_id=card_id, day=study_day, order=order, rating=rating))
    return out


def items_of(reviews: Iterable[Review]) -> list[Item]:
    """One item per review that predicts a recall at least a day after the card's previous one."""
    by_card: dict[str, list[Review]] = {}
    for r in reviews:
        by_card.setdefault(r.card_id, []).append(r)
    items = []
    for history in by_card.values():
        history.sort(key=lambda r: (r.day, r.order))
        seq: list[tuple[int, int]] = []
        previous: date | None = None
        for r in history:
            delta = 0 if previous is None else (r.day - previous).days
            seq.append((r.rating, delta))
            previous = r.day
            if len(seq) >= 2 and delta > 0:
                items.append(Item(reviews=tuple(seq), day=r.day))
    return items


def split(items: Sequence[Item], test_share: float = TEST_SHARE) -> tuple[list[Item], list[Item]]:
    """Train and test by time: the test items are those of the latest ``test_share`` of days
    (at least one day), so the test asks what a user's most recent reviews did."""
    days = sorted({i.day for i in items})
    if len(days) < 2:
        return list(items), []
    cut = days[max(1, int(len(days) * (1 - test_share)))] if len(days) > 1 else days[-1]
    train = [i for i in items if i.day < cut]
    test = [i for i in items if i.day >= cut]
    return train, test


def _rs_items(items: Sequence[Item]) -> list[Any]:
    import fsrs_rs_python as rs

    return [rs.FSRSItem([rs.FSRSReview(rating, delta) for rating, delta in i.reviews]) for i in items]


def evaluate(parameters: Sequence[float], items: Sequence[Item]) -> Metrics:
    import fsrs_rs_python as rs

    result = rs.FSRS(list(parameters)).evaluate(_rs_items(items))
    return Metrics(log_loss=float(result.log_loss), rmse=float(result.rmse_bins), items=len(items))


def has_short_term(items: Sequence[Item]) -> bool:
    """Whether any history holds a same-day review after its first (learning steps): only
    then are FSRS-6's short-term weights fitted; with none they would be fitted to noise."""
    return any(delta == 0 for i in items for _, delta in i.reviews[1:])


def fit(parameters: Sequence[float], items: Sequence[Item]) -> tuple[float, ...]:
    """fsrs-rs's parameters for ``items`` (starting from ``parameters``' model)."""
    import fsrs_rs_python as rs

    model = rs.FSRS(list(parameters))
    fitted = model.compute_parameters(_rs_items(items), enable_short_term=has_short_term(items))
    return tuple(float(w) for w in fitted)


def optimise(current: Sequence[float] | None, reviews: Sequence[Review]) -> Fit | None:
    """Fit on the earlier reviews, compare with ``current`` (None: the defaults) on the latest;
    None when there are too few reviews or too few items on either side to judge."""
    if len(reviews) < MIN_REVIEWS:
        return None
    train, test = split(items_of(reviews))
    if len(train) < MIN_REVIEWS // 4 or len(test) < 20:
        return None
    baseline = tuple(current) if current else DEFAULT_PARAMETERS
    fitted = fit(DEFAULT_PARAMETERS, train)
    return Fit(
        parameters=fitted,
        fitted=evaluate(fitted, test),
        current=evaluate(baseline, test),
        train_items=len(train),
        reviews=len(reviews),
    )
