"""The per-deck aggregates a review keeps (pure): reviews, new cards and time per day, the
seen-card histogram moved by a review and moved back by its undo, the stats diff that writes
only what changed, and mastery from the histogram."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from aksio.settings import Settings
from aksio.study import progress
from aksio.study import stats as stats_mod
from aksio.study.model import Schedule
from aksio.study.review import apply_review, undo_review
from aksio.study.scheduler import SchedulerConfig

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def review(card: dict[str, Any], stats: dict[str, Any] | None, rating: int, at: datetime, rid: str) -> Any:
    settings = Settings()
    return apply_review(
        card_id="c1",
        card=card,
        rating=rating,
        review_id=rid,
        reviewed_at=at,
        duration_ms=3000,
        now=at,
        settings=settings,
        config=SchedulerConfig.from_settings(settings, {"enableFuzzing": False}),
        user_stats=stats,
        next_due_at=None,
    )


def test_a_review_keeps_its_decks_aggregates_and_undo_takes_them_back() -> None:
    card = {"deckId": "d1", **Schedule(due=NOW - timedelta(days=3)).to_stored()}
    first = review(card, None, 3, NOW - timedelta(days=2), "r-00000001")
    card = card | first.after.to_stored()
    deck = first.stats["decks"]["d1"]
    assert deck["days"]["2026-02-28"] == {"reviews": 1, "newCards": 1, "timeMs": 3000}
    assert sum(v[0] for v in deck["seen"].values()) == 1
    second = review(card, first.stats, 3, NOW, "r-00000002")
    deck2 = second.stats["decks"]["d1"]
    assert deck2["days"]["2026-03-02"] == {"reviews": 1, "newCards": 0, "timeMs": 3000}
    [(key, (n, s, _))] = deck2["seen"].items()
    assert n == 1
    assert s == second.after.stability
    assert key == progress.seen_key(second.after.stability, NOW)
    # only the changed entries are written
    paths = set(stats_mod.changes(first.stats, second.stats))
    assert ("decks", "d1", "days", "2026-03-02") in paths
    assert ("decks", "d1", "seen", key) in paths
    assert not any(p[:2] == ("decks", "d1") and p[2:3] == ("days",) and p[3] == "2026-02-28" for p in paths)
    # undo of the second review restores the first one's aggregates
    _, undone, _ = undo_review(log=second.log, user_stats=second.stats, next_due_at=None)
    assert undone["decks"] == first.stats["decks"]


def test_mastery_from_the_histogram() -> None:
    at = datetime(2026, 3, 2, tzinfo=UTC)
    decks = progress.record(
        {},
        "d",
        day=date(2026, 3, 1),
        today=date(2026, 3, 2),
        duration_ms=0,
        before=None,
        after=(10.0, at - timedelta(days=5)),
    )
    decks = progress.record(
        decks,
        "d",
        day=date(2026, 3, 1),
        today=date(2026, 3, 2),
        duration_ms=0,
        before=None,
        after=(2.0, at - timedelta(days=3)),
    )
    m = progress.mastery(decks.values(), at, 0.9, progress.DEFAULT_DECAY)
    r1, r2 = progress.recall(5, 10.0), progress.recall(3, 2.0)
    assert m.seen == 2
    assert abs(m.mean_recall - (r1 + r2) / 2) < 1e-9  # type: ignore[operator]
    assert m.share_above == 0.5  # r1 above 0.9, r2 below
    assert progress.mastery([], at, 0.9, progress.DEFAULT_DECAY).mean_recall is None
    assert progress.new_cards_on(decks.values(), date(2026, 3, 1)) == 2
