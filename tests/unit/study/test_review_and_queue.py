"""One review computed without I/O (rating, time checks, leeches, stats, nextDueAt) and
the study queue (order, daily limits, sibling burying)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aksio import errors
from aksio.settings import Settings
from aksio.study.model import Schedule, cloze_cards, content_hash, parse_rating
from aksio.study.queue import Candidate, Limits, build_queue, limits_for
from aksio.study.review import apply_review, check_reviewed_at, is_leech, undo_review
from aksio.study.scheduler import SchedulerConfig

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def review(card: dict[str, Any], rating: int, settings: Settings | None = None, **kw: Any) -> Any:
    settings = settings or Settings()
    args: dict[str, Any] = {
        "card_id": "c1",
        "card": card,
        "rating": rating,
        "review_id": "r-00000001",
        "reviewed_at": NOW,
        "duration_ms": 2000,
        "now": NOW,
        "settings": settings,
        "config": SchedulerConfig.from_settings(settings, {"enableFuzzing": False}),
        "user_stats": None,
        "next_due_at": None,
    }
    return apply_review(**(args | kw))


def review_card(stability: float = 10.0, lapses: int = 0, **kw: Any) -> dict[str, Any]:
    return Schedule(
        state="review",
        stability=stability,
        difficulty=5.0,
        due=NOW - timedelta(days=1),
        last_review=NOW - timedelta(days=11),
        reps=5,
        lapses=lapses,
        **kw,
    ).to_stored()


@pytest.mark.parametrize(("value", "expected"), [(1, 1), (4, 4), ("again", 1), ("Easy", 4), ("3", 3), (" good ", 3)])
def test_ratings(value: object, expected: int) -> None:
    assert parse_rating(value) == expected


@pytest.mark.parametrize("value", [0, 5, -1, "meh", "", None, True, 2.5, [3]])
def test_bad_ratings_are_400(value: object) -> None:
    with pytest.raises(errors.Invalid) as info:
        parse_rating(value)
    assert info.value.code == "invalid_rating"


def test_reviewed_at_bounds() -> None:
    assert check_reviewed_at(None, NOW) == NOW
    assert check_reviewed_at(NOW + timedelta(seconds=59), NOW) == NOW + timedelta(seconds=59)
    for bad, code in [
        (NOW + timedelta(seconds=61), "reviewed_at_in_future"),
        (NOW - timedelta(days=31), "reviewed_at_too_old"),
        (datetime(2026, 3, 2, 12, 0), "invalid_reviewed_at"),
    ]:
        with pytest.raises(errors.Invalid) as info:
            check_reviewed_at(bad, NOW)
        assert info.value.code == code


def test_first_review_of_a_new_card() -> None:
    out = review(Schedule(due=NOW - timedelta(hours=1)).to_stored(), 3)
    assert out.after.state == "learning"
    assert out.after.step == 1
    assert out.after.due == NOW + timedelta(minutes=10)
    assert out.after.reps == 1
    assert out.after.last_review_id == "r-00000001"
    assert out.stats["days"]["2026-03-02"]["newCards"] == 1
    assert out.next_due_at == NOW + timedelta(minutes=10)
    assert out.result["card"]["state"] == "learning"
    assert out.log["before"]["state"] == "new"
    assert out.log["after"]["state"] == "learning"


def test_next_due_at_only_goes_down() -> None:
    earlier = NOW + timedelta(minutes=5)
    out = review(Schedule(due=NOW).to_stored(), 3, next_due_at=earlier)
    assert out.next_due_at == earlier
    out = review(Schedule(due=NOW).to_stored(), 3, next_due_at=NOW + timedelta(days=3))
    assert out.next_due_at == NOW + timedelta(minutes=10)


def test_lapse_counts_and_leech_tags_at_threshold() -> None:
    out = review(review_card(lapses=6), 1)
    assert out.after.lapses == 7
    assert not out.result["leech"]
    out = review(review_card(lapses=7), 1)
    assert out.after.lapses == 8
    assert out.result["leech"]
    assert "leech" in out.after.tags
    assert not out.after.suspended
    assert out.after.state == "relearning"
    assert out.stats["days"]["2026-03-02"]["reviewCards"] == 1
    assert out.stats["days"]["2026-03-02"]["passed"] == 0
    assert review(review_card(lapses=7), 3).after.lapses == 7  # only "again" on a review card lapses


def test_leech_suspends_when_set_and_leaves_next_due_alone() -> None:
    settings = Settings(leech_threshold=4, leech_action="suspend")
    out = review(review_card(lapses=3), 1, settings)
    assert out.after.suspended
    assert out.after.queue == "suspended"
    assert out.next_due_at is None
    assert [n for n in range(1, 20) if is_leech(n, 8)] == [8, 12, 16]
    assert [n for n in range(1, 8) if is_leech(n, 1)] == [1, 2, 3, 4, 5, 6, 7]


def test_suspended_card_is_409() -> None:
    with pytest.raises(errors.Conflict) as info:
        review(review_card(suspended=True), 3)
    assert info.value.code == "card_suspended"


def test_undo_restores_the_card_and_the_stats() -> None:
    card = review_card()
    before_stats = review(Schedule(due=NOW).to_stored(), 3, review_id="r-first-1").stats
    out = review(card, 1, user_stats=before_stats)
    restored, stats, next_due = undo_review(log=out.log, user_stats=out.stats, next_due_at=out.next_due_at)
    assert restored == Schedule.from_stored(card)
    assert stats == before_stats
    assert next_due == min(out.next_due_at, restored.due)


def test_cloze_cards_and_hashes() -> None:
    cards = cloze_cards("{{c1::Oslo}} is the capital of {{c2::Norway::country}}.")
    assert [(c.cloze_index, c.front, c.back) for c in cards] == [
        (1, "[...] is the capital of Norway.", "[Oslo] is the capital of Norway."),
        (2, "Oslo is the capital of [country].", "Oslo is the capital of [Norway]."),
    ]
    with pytest.raises(errors.Invalid):
        cloze_cards("no deletions")
    assert content_hash("d", cards[0]) != content_hash("d", cards[1])
    assert content_hash("d", cards[0]) != content_hash("e", cards[0])


def cand(cid: str, queue: str, minutes: int, note: str | None = None) -> Candidate:
    return Candidate(card_id=cid, queue=queue, due=NOW + timedelta(minutes=minutes), note_id=note)


def test_queue_order_and_limits() -> None:
    settings = Settings(new_cards_per_day=2, reviews_per_day=3)
    limits = limits_for(settings, {"newCards": 1, "reviewCards": 1})
    assert limits == Limits(new_remaining=1, review_remaining=2)
    result = build_queue(
        learning=[cand("l1", "learning", -5), cand("l2", "learning", -50)],
        review=[cand("r1", "review", -100), cand("r2", "review", -10), cand("r3", "review", -1)],
        new=[cand("n1", "new", -1000), cand("n2", "new", -900)],
        settings=settings,
        limits=limits,
        studied_notes=set(),
        limit=50,
        available={"learning": 2, "review": 9, "new": 7},
    )
    assert [c.card_id for c in result.cards] == ["r1", "l2", "r2", "l1", "n1"]
    assert result.counts == {"learning": 2, "review": 2, "new": 1}
    short = build_queue(
        learning=[],
        review=[],
        new=[cand("n1", "new", 0)],
        settings=settings,
        limits=limits,
        studied_notes=set(),
        limit=1,
    )
    assert short.counts == {"learning": 0, "review": 0, "new": 1}


def test_siblings_are_buried_when_set() -> None:
    def run(settings: Settings) -> list[str]:
        result = build_queue(
            learning=[],
            review=[
                cand("r1", "review", -10, "noteA"),
                cand("r2", "review", -5, "noteA"),
                cand("r3", "review", -1, "noteB"),
            ],
            new=[cand("n1", "new", 0, "noteC"), cand("n2", "new", 1, "noteC"), cand("n3", "new", 2, "noteB")],
            settings=settings,
            limits=Limits(new_remaining=10, review_remaining=10),
            studied_notes={"noteB"},
            limit=50,
        )
        return [c.card_id for c in result.cards]

    assert run(Settings()) == ["r1", "r2", "r3", "n1", "n2", "n3"]
    assert run(Settings(bury_review_siblings=True)) == ["r1", "n1", "n2", "n3"]
    assert run(Settings(bury_review_siblings=True, bury_new_siblings=True)) == ["r1", "n1"]
