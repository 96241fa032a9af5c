"""Per-deck study aggregates, kept in the user's ``stats`` map by the review transaction
(no extra read or write), and what progress computes from them. Pure.

Stored under ``stats.decks.{deckId}``::

    days: {"2026-11-27": {reviews, newCards, timeMs}, ...}   # the last KEEP_DAYS study days
    seen: {"<b>_<day>": [n, sumStability, sumLastReview], ...}

``seen`` is a histogram of the deck's reviewed cards by (stability bucket ``b``, day of the
last review): ``n`` cards, the sum of their stabilities (days) and of their last-review
instants (days since the epoch, fractional). A review moves its card from the key of its
schedule before to the key of its schedule after; undo moves it back. A bucket spans a
factor of :data:`BUCKET_RATIO` in stability, and a card's elapsed time is known to within
the spread of one day's last reviews, so the mean predicted recall of the seen cards,
evaluated per key at the key's mean stability and mean last review, is within a fraction
of a point of the exact mean (``bench/mastery_accuracy.py``).

The forgetting curve is FSRS's: ``R(t, S) = (1 + F·t/S)^(-w20)`` with ``F = 0.9^(-1/w20) - 1``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aksio.study.days import day_key

KEEP_DAYS = 120
DAY_FIELDS = ("reviews", "newCards", "timeMs")
BUCKET_RATIO = 1.5
DEFAULT_DECAY = 0.1542  # FSRS-6's default w20 (py-fsrs FSRS_DEFAULT_DECAY)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SECONDS_PER_DAY = 86400.0


def epoch_days(at: datetime) -> float:
    return (at - EPOCH).total_seconds() / SECONDS_PER_DAY


def bucket(stability: float) -> int:
    return math.floor(math.log(max(stability, 1e-3)) / math.log(BUCKET_RATIO))


def seen_key(stability: float, last_review: datetime) -> str:
    return f"{bucket(stability)}_{int(epoch_days(last_review))}"


def recall(elapsed_days: float, stability: float, decay: float = DEFAULT_DECAY) -> float:
    """FSRS's predicted recall ``elapsed_days`` after the last review."""
    factor = 0.9 ** (-1 / decay) - 1
    return float((1 + factor * max(0.0, elapsed_days) / max(stability, 1e-6)) ** -decay)


def decay_of(parameters: Iterable[float] | None) -> float:
    values = list(parameters or [])
    return float(values[20]) if len(values) == 21 else DEFAULT_DECAY


# -- the stored form ------------------------------------------------------------------------


def _num(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def normalise(decks: object) -> dict[str, dict[str, Any]]:
    """A well-typed copy of a stored ``stats.decks`` map."""
    out: dict[str, dict[str, Any]] = {}
    if not isinstance(decks, Mapping):
        return out
    for deck_id, entry in decks.items():
        if not isinstance(entry, Mapping):
            continue
        days_in = entry.get("days") if isinstance(entry.get("days"), Mapping) else {}
        seen_in = entry.get("seen") if isinstance(entry.get("seen"), Mapping) else {}
        days_items = (days_in or {}).items()
        days = {str(k): {f: int(_num(v.get(f))) for f in DAY_FIELDS} for k, v in days_items if isinstance(v, Mapping)}
        seen = {
            str(k): [int(_num(v[0])), _num(v[1]), _num(v[2])]
            for k, v in (seen_in or {}).items()
            if isinstance(v, list | tuple) and len(v) == 3 and _num(v[0]) > 0
        }
        out[str(deck_id)] = {"days": days, "seen": seen}
    return out


def _move(seen: dict[str, list[Any]], card: tuple[float, datetime] | None, sign: int) -> None:
    if card is None:
        return
    stability, last = card
    key = seen_key(stability, last)
    entry = seen.setdefault(key, [0, 0.0, 0.0])
    entry[0] += sign
    entry[1] += sign * stability
    entry[2] += sign * epoch_days(last)
    if entry[0] <= 0:
        del seen[key]


def seen_of(schedule: Any) -> tuple[float, datetime] | None:
    """(stability, last review) of a reviewed card's schedule; None for a card never reviewed."""
    if schedule.stability is None or schedule.last_review is None or schedule.state == "new":
        return None
    return float(schedule.stability), schedule.last_review


def record(
    decks: object,
    deck_id: str | None,
    *,
    day: date,
    today: date,
    duration_ms: int | None,
    before: tuple[float, datetime] | None,
    after: tuple[float, datetime] | None,
    undo: bool = False,
) -> dict[str, dict[str, Any]]:
    """``stats.decks`` after one review of a card of ``deck_id`` (or, with ``undo``, without
    it): the day's count and time, and the card moved in the histogram."""
    out = normalise(decks)
    if not deck_id:
        return out
    entry = out.setdefault(deck_id, {"days": {}, "seen": {}})
    key = day_key(day)
    sign = -1 if undo else 1
    counts = entry["days"].setdefault(key, dict.fromkeys(DAY_FIELDS, 0))
    counts["reviews"] = max(0, counts["reviews"] + sign)
    if before is None:  # the card was new before this review
        counts["newCards"] = max(0, counts["newCards"] + sign)
    counts["timeMs"] = max(0, counts["timeMs"] + sign * max(0, duration_ms or 0))
    if counts["reviews"] == 0:
        del entry["days"][key]
    horizon = day_key(max(day, today) - timedelta(days=KEEP_DAYS))
    for old in [k for k in entry["days"] if k < horizon]:
        del entry["days"][old]
    _move(entry["seen"], after if undo else before, -1)
    _move(entry["seen"], before if undo else after, 1)
    return out


# -- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mastery:
    seen: int
    mean_recall: float | None
    share_above: float | None


def mastery(entries: Iterable[Mapping[str, Any]], at: datetime, desired: float, decay: float) -> Mastery:
    """Mean predicted recall at ``at`` of the seen cards of the decks ``entries``, and the
    share of them above ``desired``."""
    now = epoch_days(at)
    n = total = above = 0.0
    for entry in entries:
        for count, sum_s, sum_l in (entry.get("seen") or {}).values():
            r = recall(now - sum_l / count, sum_s / count, decay)
            n += count
            total += count * r
            above += count if r >= desired else 0
    if not n:
        return Mastery(0, None, None)
    return Mastery(int(n), total / n, above / n)


def per_day(entries: Iterable[Mapping[str, Any]], today: date, n_days: int) -> list[dict[str, Any]]:
    """Reviews and time of the decks ``entries`` on each of the last ``n_days``, oldest first."""
    entries = list(entries)
    out = []
    for offset in range(n_days - 1, -1, -1):
        key = day_key(today - timedelta(days=offset))
        reviews = sum(int((e.get("days") or {}).get(key, {}).get("reviews", 0)) for e in entries)
        time_ms = sum(int((e.get("days") or {}).get(key, {}).get("timeMs", 0)) for e in entries)
        out.append({"day": key, "reviews": reviews, "timeMs": time_ms})
    return out


def new_cards_on(entries: Iterable[Mapping[str, Any]], day: date) -> int:
    """New cards the decks ``entries`` introduced on study day ``day``."""
    key = day_key(day)
    return sum(int((e.get("days") or {}).get(key, {}).get("newCards", 0)) for e in entries)


def maintained(entries: Iterable[Mapping[str, Any]], at: datetime, floor: float, decay: float) -> tuple[int, float]:
    """The seen cards of ``entries`` if their reviews go on as scheduled: how many, and the
    sum of their recall at ``at`` (each at least ``floor``, the mean recall of a card kept on
    schedule)."""
    when = epoch_days(at)
    n = total = 0.0
    for entry in entries:
        for count, sum_s, sum_l in (entry.get("seen") or {}).values():
            n += count
            total += count * max(floor, recall(when - sum_l / count, sum_s / count, decay))
    return int(n), total


def review_rate(entries: Iterable[Mapping[str, Any]], desired: float, decay: float) -> float:
    """Reviews a day the seen cards of ``entries`` need at the desired retention (each card
    once per interval, the interval at which its recall falls to ``desired``)."""
    factor = 0.9 ** (-1 / decay) - 1
    per_stability = (desired ** (-1 / decay) - 1) / factor  # interval = stability × this
    rate = 0.0
    for entry in entries:
        for count, sum_s, _ in (entry.get("seen") or {}).values():
            rate += count / max(1.0, per_stability * sum_s / count)
    return rate
