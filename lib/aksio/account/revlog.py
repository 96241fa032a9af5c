"""An Anki card's review history (its ``revlog`` rows) as an FSRS schedule, so an imported
card keeps its place: stability and difficulty are fsrs-rs's ``memory_state`` of the history
(``fsrs_rs_python``, imported inside :func:`schedules` only: the import job pays for it, no
light function does), the state and the due date follow from Anki's own interval.

Which rows are reviews (as Anki's FSRS does): answers (ease 1-4) of kind learn (0), review (1),
relearn (2) and filtered (3, except a preview that did not reschedule: factor 0); a manual row
of ease 0 and interval 0 is a reset ("Forget"), which drops what came before it; other ease-0
rows (rescheduling, set due date) are not reviews. ``delta_t`` of a review is the number of
whole days (floor of 24 h periods) since the one before, 0 for the first, as py-fsrs counts
``days since last review`` when a card is reviewed here later. Pure but for the fsrs-rs call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aksio.study.model import Schedule, State

DAY_MS = 86_400_000
MAX_MS = 253_402_300_799_999 - 200 * 365 * DAY_MS  # a review later than about 9800 is not a time
MAX_DAYS = 36_500  # Anki's longest interval
LEARN, REVIEW, RELEARN, FILTERED, MANUAL = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Entry:
    """One ``revlog`` row: its id (the review time in ms), ease (0 when not an answer),
    kind (``type``), interval given (days when positive, seconds when negative), factor."""

    at_ms: int
    ease: int
    kind: int
    ivl: int = 0
    factor: int = 0


@dataclass(frozen=True)
class History:
    """A card's rows, and the card's own ``type`` (0 new, 1 learning, 2 review, 3 relearning),
    ``ivl`` (days for a review card) and FSRS memory state (stability, difficulty: ``s`` and
    ``d`` of its ``data``, what Anki 23.10+ keeps, None when absent) from the ``cards`` table."""

    entries: tuple[Entry, ...]
    card_type: int = 0
    card_ivl: int = 0
    memory: tuple[float, float] | None = None


def reviews(entries: Sequence[Entry]) -> list[Entry]:
    """The rows that count as reviews, oldest first, after the last reset."""
    ordered = sorted(entries, key=lambda e: e.at_ms)
    kept: list[Entry] = []
    for e in ordered:
        if not 0 <= e.at_ms <= MAX_MS:
            continue  # a row whose id is not a plausible time: not a review
        if e.kind == MANUAL and e.ease == 0 and e.ivl == 0:
            kept = []  # the card was reset: its history starts again
        elif 1 <= e.ease <= 4 and e.kind in (LEARN, REVIEW, RELEARN, FILTERED) and (e.kind, e.factor) != (FILTERED, 0):
            kept.append(e)
    return kept


def fsrs_reviews(kept: Sequence[Entry]) -> list[tuple[int, int]]:
    """``(rating, delta_t days)`` of each review, the first with 0."""
    out: list[tuple[int, int]] = []
    for i, e in enumerate(kept):
        delta = 0 if i == 0 else (e.at_ms - kept[i - 1].at_ms) // DAY_MS
        out.append((e.ease, max(0, delta)))
    return out


def at(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def interval_days(parameters: Sequence[float], stability: float, desired_retention: float) -> int:
    """FSRS's interval for ``stability`` at ``desired_retention`` (whole days, at least 1)."""
    decay = -parameters[20]
    factor = 0.9 ** (1 / decay) - 1
    days: float = stability / factor * (desired_retention ** (1 / decay) - 1)
    return min(MAX_DAYS, max(1, round(days)))


def _state(history: History, last: Entry) -> State:
    by_type: dict[int, State] = {1: "learning", 2: "review", 3: "relearning"}
    if history.card_type in by_type:
        return by_type[history.card_type]
    if last.ivl > 0:
        return "review"
    return "learning" if last.kind == LEARN else "relearning"


def schedule_of(
    history: History,
    memory: tuple[float, float],
    kept: Sequence[Entry],
    *,
    parameters: Sequence[float],
    retention: float,
) -> Schedule:
    """The schedule of a card with ``kept`` reviews whose memory state is ``memory``."""
    last = kept[-1]
    last_at = at(last.at_ms)
    state = _state(history, last)
    stability, difficulty = memory
    if state == "review":
        days = history.card_ivl if history.card_ivl > 0 else last.ivl
        if days <= 0:
            days = interval_days(parameters, stability, retention)
        due = last_at + timedelta(days=min(days, MAX_DAYS))
    else:
        due = last_at + timedelta(seconds=min(-last.ivl, DAY_MS // 1000) if last.ivl < 0 else 0)
    lapses = sum(1 for e in kept if e.ease == 1 and e.kind == REVIEW)
    return Schedule(
        state=state,
        step=None if state == "review" else 0,
        stability=stability,
        difficulty=difficulty,
        due=due,
        last_review=last_at,
        reps=len(kept),
        lapses=lapses,
    )


def memory_of(data: Any) -> tuple[float, float] | None:
    """Stability and difficulty from a ``cards.data`` JSON text (None: not there or not valid)."""
    import json
    import math

    try:
        parsed = json.loads(data) if isinstance(data, str) and data else None
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    s, d = parsed.get("s"), parsed.get("d")
    if not isinstance(s, int | float) or not isinstance(d, int | float) or isinstance(s, bool) or isinstance(d, bool):
        return None
    if not (math.isfinite(s) and math.isfinite(d) and 0 < s <= 1e6 and 1 <= d <= 10):
        return None
    return float(s), float(d)


def default_parameters() -> tuple[float, ...]:
    import fsrs_rs_python as rs

    return tuple(float(w) for w in rs.DEFAULT_PARAMETERS)


def schedules(
    histories: Sequence[History], *, parameters: Sequence[float] | None, retention: float
) -> list[Schedule | None]:
    """Each history's schedule (None: no review, the card stays new). A card whose package
    holds its memory state keeps that state (what Anki, or our export, computed with the
    student's own parameters); the others get the memory state of their reviews."""
    import fsrs_rs_python as rs

    params = tuple(parameters) if parameters else default_parameters()
    model: Any = rs.FSRS(list(params))
    out: list[Schedule | None] = []
    for history in histories:
        kept = reviews(history.entries)
        if not kept:
            out.append(None)
            continue
        if history.memory is not None and history.card_type != 0:
            memory = history.memory
        else:
            item = rs.FSRSItem([rs.FSRSReview(rating, delta) for rating, delta in fsrs_reviews(kept)])
            state = model.memory_state(item)
            memory = (float(state.stability), float(state.difficulty))
        out.append(schedule_of(history, memory, kept, parameters=params, retention=retention))
    return out
