"""The exam plan's forecast by FSRS's own simulator (fsrs-rs-python's ``simulate``), imported
here only: no function pays for it at start, and only the plan route calls it.

The simulator introduces ``per_day`` new cards a day out of ``new_cards`` over ``days`` days
and reviews every card when due at the desired retention (no review cap, no time cap: the
plan assumes its reviews are done), answering with FSRS's predicted recall and the default
rating distributions. ``memorized_cnt_per_day`` is the sum of predicted recall over the cards
introduced by each day's end; the exam is the morning after the last simulated day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SEED = 7
MAX_SIMULATED = 5000
UNLIMITED = 10**9


@dataclass(frozen=True)
class Forecast:
    reviews_per_day: list[int]  # reviews of cards already introduced
    new_per_day: list[int]
    expected_recalled: float  # Σ predicted recall of the new cards on the exam day


def forecast(
    *, new_cards: int, days: int, per_day: int, desired: float, parameters: Sequence[float] | None
) -> Forecast:
    """What following the plan for the ``new_cards`` unseen cards does, day by day."""
    if new_cards <= 0 or days <= 0:
        return Forecast([0] * max(days, 0), [0] * max(days, 0), 0.0)
    import fsrs_rs_python as fsrs_rs

    # A large course is simulated at MAX_SIMULATED cards and scaled (the per-card
    # expectations do not depend on the deck's size, only on cards a day per card).
    scale = max(1.0, new_cards / MAX_SIMULATED)
    config = fsrs_rs.default_simulator_config()
    config.deck_size = round(new_cards / scale)
    config.learn_span = days
    config.learn_limit = max(1, round(per_day / scale))
    config.review_limit = UNLIMITED
    config.max_cost_perday = float(UNLIMITED)
    weights = list(parameters) if parameters and len(parameters) == 21 else list(fsrs_rs.DEFAULT_PARAMETERS)
    result = fsrs_rs.simulate(weights, desired, config, SEED)
    return Forecast(
        reviews_per_day=[round(n * scale) for n in result.review_cnt_per_day],
        new_per_day=[min(per_day, round(n * scale)) for n in result.learn_cnt_per_day],
        expected_recalled=float(result.memorized_cnt_per_day[-1]) * scale,
    )
