"""The user's study statistics, kept in the ``stats`` map of ``users/{uid}`` and changed
in the same transaction as each review. Pure.

Stored shape (camelCase like everything stored)::

    stats: {
      totalReviews: 1234,
      byRating: {again: 1, hard: 2, good: 3, easy: 4},
      days: {"2026-11-23": {reviews, newCards, reviewCards, passed, timeMs}, ...},  # last 400 study days
      streak: {current, longest, lastDay},
      today: {day: "2026-11-23", noteIds: [...]},  # notes studied today (sibling burying)
    }

``reviewCards``/``passed`` count reviews of cards that were in the review state, and
those rated hard or better: true retention is passed / reviewCards (Anki's definition).
``newCards`` and ``reviewCards`` of today are what the daily limits count against.
Days are study days (:mod:`aksio.study.days`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from aksio.study import progress
from aksio.study.days import day_key
from aksio.study.model import RATING_NAMES

KEEP_DAYS = 400
MAX_TODAY_NOTES = 2000
DAY_FIELDS = ("reviews", "newCards", "reviewCards", "passed", "timeMs")


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def normalise(stats: Mapping[str, Any] | None) -> dict[str, Any]:
    """A complete, well-typed copy of a stored stats map."""
    src = dict(stats or {})
    days_in = src.get("days") if isinstance(src.get("days"), Mapping) else {}
    days: dict[str, dict[str, int]] = {}
    for key, value in (days_in or {}).items():
        if isinstance(value, Mapping):
            days[str(key)] = {f: _int(value.get(f)) for f in DAY_FIELDS}
    by_rating_in = src.get("byRating") if isinstance(src.get("byRating"), Mapping) else {}
    streak_in = src.get("streak") if isinstance(src.get("streak"), Mapping) else {}
    today_in = src.get("today") if isinstance(src.get("today"), Mapping) else {}
    return {
        "totalReviews": _int(src.get("totalReviews")),
        "byRating": {name: _int((by_rating_in or {}).get(name)) for name in RATING_NAMES.values()},
        "days": days,
        "streak": {
            "current": _int((streak_in or {}).get("current")),
            "longest": _int((streak_in or {}).get("longest")),
            "lastDay": (streak_in or {}).get("lastDay"),
        },
        "today": {
            "day": (today_in or {}).get("day"),
            "noteIds": [str(n) for n in (today_in or {}).get("noteIds") or []],
        },
        "decks": progress.normalise(src.get("decks")),
    }


def run_ending(days: Mapping[str, Mapping[str, int]], last: date) -> int:
    """Consecutive study days with reviews, ending at ``last``."""
    run = 0
    day = last
    while run <= KEEP_DAYS and _int(days.get(day_key(day), {}).get("reviews")) > 0:
        run += 1
        day -= timedelta(days=1)
    return run


def _streak(days: Mapping[str, Mapping[str, int]], longest: int) -> dict[str, Any]:
    active = sorted(k for k, v in days.items() if v.get("reviews", 0) > 0)
    if not active:
        return {"current": 0, "longest": longest, "lastDay": None}
    last = date.fromisoformat(active[-1])
    run = run_ending(days, last)
    return {"current": run, "longest": max(longest, run), "lastDay": active[-1]}


def current_streak(stats: Mapping[str, Any], today: date) -> int:
    """The streak as of ``today``: it survives until the end of the day after the last one."""
    streak = stats["streak"]
    last = streak.get("lastDay")
    if not last:
        return 0
    gap = (today - date.fromisoformat(last)).days
    return int(streak["current"]) if gap in (0, 1) else 0


def _prune(days: dict[str, dict[str, int]], newest: date) -> None:
    horizon = day_key(newest - timedelta(days=KEEP_DAYS))
    for key in [k for k in days if k < horizon]:
        del days[key]


def record_review(
    stats: Mapping[str, Any] | None,
    *,
    day: date,
    today: date,
    rating: int,
    before_state: str,
    note_id: str | None,
    duration_ms: int | None,
) -> dict[str, Any]:
    """``stats`` after one review on study day ``day`` (``today`` is the current study day)."""
    out = normalise(stats)
    key = day_key(day)
    entry = out["days"].setdefault(key, dict.fromkeys(DAY_FIELDS, 0))
    entry["reviews"] += 1
    if before_state == "new":
        entry["newCards"] += 1
    if before_state == "review":
        entry["reviewCards"] += 1
        if rating > 1:
            entry["passed"] += 1
    entry["timeMs"] += max(0, duration_ms or 0)
    out["totalReviews"] += 1
    out["byRating"][RATING_NAMES[rating]] += 1
    _prune(out["days"], max(day, today))
    out["streak"] = _streak(out["days"], out["streak"]["longest"])
    today_key = day_key(today)
    if out["today"]["day"] != today_key:
        out["today"] = {"day": today_key, "noteIds": []}
    if note_id and day == today and note_id not in out["today"]["noteIds"]:
        out["today"]["noteIds"] = [*out["today"]["noteIds"], note_id][-MAX_TODAY_NOTES:]
    return out


def unrecord_review(
    stats: Mapping[str, Any] | None,
    *,
    day: date,
    rating: int,
    before_state: str,
    duration_ms: int | None,
    longest_before: int | None,
) -> dict[str, Any]:
    """``stats`` with one recorded review taken back (undo)."""
    out = normalise(stats)
    key = day_key(day)
    entry = out["days"].get(key)
    if entry is not None:
        entry["reviews"] = max(0, entry["reviews"] - 1)
        if before_state == "new":
            entry["newCards"] = max(0, entry["newCards"] - 1)
        if before_state == "review":
            entry["reviewCards"] = max(0, entry["reviewCards"] - 1)
            if rating > 1:
                entry["passed"] = max(0, entry["passed"] - 1)
        entry["timeMs"] = max(0, entry["timeMs"] - max(0, duration_ms or 0))
        if entry["reviews"] == 0:
            del out["days"][key]
    out["totalReviews"] = max(0, out["totalReviews"] - 1)
    name = RATING_NAMES[rating]
    out["byRating"][name] = max(0, out["byRating"][name] - 1)
    longest = out["streak"]["longest"] if longest_before is None else longest_before
    out["streak"] = _streak(out["days"], 0)
    out["streak"]["longest"] = max(longest, out["streak"]["current"])
    return out


def reviews_per_day(stats: Mapping[str, Any], today: date, n_days: int) -> list[dict[str, Any]]:
    """The last ``n_days`` study days, oldest first, zeros included."""
    out = []
    for offset in range(n_days - 1, -1, -1):
        day = today - timedelta(days=offset)
        entry = stats["days"].get(day_key(day), {})
        out.append({"day": day_key(day), **{f: _int(entry.get(f)) for f in DAY_FIELDS}})
    return out


def true_retention(days: Iterable[Mapping[str, Any]]) -> tuple[float | None, int]:
    """passed / reviewCards over ``days`` (None when there were no reviews of review cards)."""
    passed = total = 0
    for entry in days:
        passed += _int(entry.get("passed"))
        total += _int(entry.get("reviewCards"))
    return (passed / total if total else None), total


def today_counts(stats: Mapping[str, Any], today: date) -> dict[str, int]:
    entry = stats["days"].get(day_key(today), {})
    return {"newCards": _int(entry.get("newCards")), "reviewCards": _int(entry.get("reviewCards"))}


def studied_notes_today(stats: Mapping[str, Any], today: date) -> set[str]:
    info = stats["today"]
    return set(info["noteIds"]) if info.get("day") == day_key(today) else set()


def snapshot(stats: Mapping[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(dict(stats))


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[tuple[str, ...], Any]:
    """The field paths (under ``stats``) that differ from ``old`` to ``new``, each with its
    new value, or :data:`DELETED` for a day that was pruned or emptied. Writing only these
    keeps a review's write the same size however long the history grows."""
    out: dict[tuple[str, ...], Any] = {}
    for key, value in new.items():
        if key == "days":
            old_days = old.get("days") or {}
            for day, entry in value.items():
                if old_days.get(day) != entry:
                    out[("days", day)] = entry
            for day in old_days:
                if day not in value:
                    out[("days", day)] = DELETED
        elif key == "decks":
            out |= _deck_changes(old.get("decks") or {}, value)
        elif old.get(key) != value:
            out[(key,)] = value
    return out


def _deck_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[tuple[str, ...], Any]:
    """The per-deck aggregates' changes, down to one day or one histogram key."""
    out: dict[tuple[str, ...], Any] = {}
    for deck, entry in new.items():
        before = old.get(deck)
        if not isinstance(before, Mapping):
            out[("decks", deck)] = entry
            continue
        for sub in ("days", "seen"):
            was, now = before.get(sub) or {}, entry.get(sub) or {}
            out |= {("decks", deck, sub, k): v for k, v in now.items() if was.get(k) != v}
            out |= {("decks", deck, sub, k): DELETED for k in was if k not in now}
    out |= {("decks", deck): DELETED for deck in old if deck not in new}
    return out


DELETED = object()
"""Marks a field :func:`changes` wants deleted."""
