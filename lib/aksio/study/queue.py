"""The cards to study now, Anki-style. Pure: the store fetches candidates, this orders,
limits and buries.

Order: learning and relearning cards that are due, then due review cards (both by due
time, merged), then new cards in the order they were added. Review cards are limited by
what is left of ``reviews_per_day`` today and new cards by ``new_cards_per_day``; learning
cards are never held back (as in Anki). With ``bury_*_siblings`` a cloze card is not shown
when a card of the same note was studied today or is already earlier in the queue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from aksio.prefs import StudySettings as Settings


@dataclass(frozen=True)
class Candidate:
    card_id: str
    queue: str  # "learning" | "review" | "new"
    due: datetime
    note_id: str | None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    new_remaining: int
    review_remaining: int


@dataclass
class QueueResult:
    cards: list[Candidate]
    counts: dict[str, int]
    limits: Limits
    buried: int = 0


def limits_for(settings: Settings, today: Mapping[str, int]) -> Limits:
    return Limits(
        new_remaining=max(0, settings.new_cards_per_day - int(today.get("newCards", 0))),
        review_remaining=max(0, settings.reviews_per_day - int(today.get("reviewCards", 0))),
    )


def _merge_by_due(a: Sequence[Candidate], b: Sequence[Candidate]) -> list[Candidate]:
    return sorted([*a, *b], key=lambda c: (c.due, c.card_id))


def build_queue(
    *,
    learning: Iterable[Candidate],
    review: Iterable[Candidate],
    new: Iterable[Candidate],
    settings: Settings,
    limits: Limits,
    studied_notes: set[str],
    limit: int,
    available: Mapping[str, int] | None = None,
) -> QueueResult:
    """The queue (at most ``limit`` cards) and the counts of what is left to study today.

    ``available`` gives the numbers of due learning/review and new cards when known (from
    count queries); otherwise the candidates' lengths are used.
    """
    seen = set(studied_notes)
    buried = 0

    def keep(card: Candidate, bury: bool) -> bool:
        nonlocal buried
        if not bury or not card.note_id:
            return True
        if card.note_id in seen:
            buried += 1
            return False
        seen.add(card.note_id)
        return True

    reviews = list(review)[: limits.review_remaining]
    due = [c for c in _merge_by_due(list(learning), reviews) if keep(c, settings.bury_review_siblings)]
    new_cards = [c for c in list(new)[: limits.new_remaining] if keep(c, settings.bury_new_siblings)]
    ordered = due + new_cards
    have = {
        "learning": sum(1 for c in due if c.queue == "learning"),
        "review": sum(1 for c in due if c.queue == "review"),
        "new": len(new_cards),
    }
    counts = dict(have)
    if available is not None:
        counts["learning"] = max(have["learning"], int(available.get("learning", 0)))
        counts["review"] = max(have["review"], min(limits.review_remaining, int(available.get("review", 0))))
        counts["new"] = max(have["new"], min(limits.new_remaining, int(available.get("new", 0))))
    return QueueResult(cards=ordered[:limit], counts=counts, limits=limits, buried=buried)
