"""Cards as the study core sees them: scheduling state, content, the stored (Firestore)
form and the API form. Pure.

A card is ``new`` until its first review, then ``learning`` / ``review`` / ``relearning``
as FSRS moves it. ``queue`` is derived and stored so the daily queue and the reminders job
need one indexed query each: ``new``, ``learning`` (learning and relearning), ``review``,
or ``suspended``. A new card's ``due`` is its creation time, so new cards come in the
order they were added.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from aksio import errors

State = Literal["new", "learning", "review", "relearning"]
Queue = Literal["new", "learning", "review", "suspended"]
STATES: tuple[State, ...] = ("new", "learning", "review", "relearning")
RATINGS = {"again": 1, "hard": 2, "good": 3, "easy": 4}
RATING_NAMES = {v: k for k, v in RATINGS.items()}
MAX_TEXT_BYTES = 10 * 1024
LEECH_TAG = "leech"


def parse_rating(value: object) -> int:
    """1-4 or again/hard/good/easy (any case) → 1-4; anything else is a 400."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, int) and 1 <= value <= 4:
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in RATINGS:
            return RATINGS[text]
        if text in {"1", "2", "3", "4"}:
            return int(text)
    raise errors.Invalid(
        "rating must be 1-4 or one of again, hard, good, easy.",
        code="invalid_rating",
        details=[{"field": "rating", "in": "body", "message": "expected 1-4 or again/hard/good/easy"}],
    )


def utc(value: datetime) -> datetime:
    """A plain UTC datetime (Firestore hands back a subclass; py-fsrs wants ``timezone.utc``)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return datetime(
        value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond, tzinfo=UTC
    )


@dataclass(frozen=True)
class Schedule:
    """The scheduling part of a card: everything a review reads and changes."""

    state: State = "new"
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None
    last_review: datetime | None = None
    reps: int = 0
    lapses: int = 0
    suspended: bool = False
    tags: tuple[str, ...] = ()
    last_review_id: str | None = None

    @property
    def queue(self) -> Queue:
        if self.suspended:
            return "suspended"
        if self.state == "new":
            return "new"
        if self.state in ("learning", "relearning"):
            return "learning"
        return "review"

    def to_stored(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "queue": self.queue,
            "step": self.step,
            "stability": self.stability,
            "difficulty": self.difficulty,
            "due": self.due,
            "lastReview": self.last_review,
            "reps": self.reps,
            "lapses": self.lapses,
            "suspended": self.suspended,
            "tags": list(self.tags),
            "lastReviewId": self.last_review_id,
        }

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Schedule:
        stored_state = data.get("state")
        state: State = stored_state if stored_state in STATES else "new"
        due = data.get("due")
        last = data.get("lastReview")
        step = data.get("step")
        stability = data.get("stability")
        difficulty = data.get("difficulty")
        return cls(
            state=state,
            step=int(step) if step is not None else None,
            stability=float(stability) if stability is not None else None,
            difficulty=float(difficulty) if difficulty is not None else None,
            due=utc(due) if isinstance(due, datetime) else None,
            last_review=utc(last) if isinstance(last, datetime) else None,
            reps=int(data.get("reps") or 0),
            lapses=int(data.get("lapses") or 0),
            suspended=bool(data.get("suspended", False)),
            tags=tuple(str(t) for t in data.get("tags") or ()),
            last_review_id=data.get("lastReviewId"),
        )

    def with_(self, **changes: Any) -> Schedule:
        return replace(self, **changes)


# -- content ------------------------------------------------------------------------------

_CLOZE = re.compile(r"\{\{c(\d{1,3})::(.*?)(?:::(.*?))?\}\}", re.DOTALL)


@dataclass(frozen=True)
class Content:
    front: str
    back: str
    kind: Literal["basic", "cloze"] = "basic"
    cloze_index: int | None = None
    text: str | None = None


def cloze_indexes(text: str) -> list[int]:
    return sorted({int(m.group(1)) for m in _CLOZE.finditer(text) if int(m.group(1)) > 0})


# The cards one cloze note may make: they are created in one transaction (Firestore allows
# 500 writes and 10 MiB; each card carries the note's text, up to MAX_TEXT_BYTES, three times).
MAX_CLOZE_CARDS = 100


def cloze_cards(text: str) -> list[Content]:
    """One card per cloze number, Anki style: ``{{c1::answer::hint}}``; at most
    :data:`MAX_CLOZE_CARDS` (400 ``too_many_clozes`` past it)."""
    indexes = cloze_indexes(text)
    if len(indexes) > MAX_CLOZE_CARDS:
        raise errors.Invalid(
            f"A cloze note can make at most {MAX_CLOZE_CARDS} cards; this one numbers {len(indexes)} deletions.",
            code="too_many_clozes",
            details=[
                {
                    "field": "cloze",
                    "in": "body",
                    "message": f"at most {MAX_CLOZE_CARDS} cloze numbers",
                    "limit": MAX_CLOZE_CARDS,
                }
            ],
        )
    if not indexes:
        raise errors.Invalid(
            "cloze text needs at least one deletion like {{c1::answer}}.",
            code="invalid_cloze",
            details=[{"field": "cloze", "in": "body", "message": "no {{cN::...}} deletion found"}],
        )
    cards = []
    for index in indexes:

        def front(m: re.Match[str], index: int = index) -> str:
            if int(m.group(1)) == index:
                return f"[{m.group(3)}]" if m.group(3) else "[...]"
            return m.group(2)

        def back(m: re.Match[str], index: int = index) -> str:
            return f"[{m.group(2)}]" if int(m.group(1)) == index else m.group(2)

        cards.append(
            Content(
                front=_CLOZE.sub(front, text), back=_CLOZE.sub(back, text), kind="cloze", cloze_index=index, text=text
            )
        )
    return cards


def content_hash(deck_id: str, content: Content) -> str:
    """What makes two cards the same card (for dedupe and idempotent creation)."""
    norm = "\x1f".join(
        [deck_id, content.kind, " ".join(content.front.split()).lower(), " ".join(content.back.split()).lower()]
        + ([str(content.cloze_index)] if content.cloze_index is not None else [])
    )
    return hashlib.sha256(norm.encode()).hexdigest()


def note_id(deck_id: str, text: str) -> str:
    return "n" + hashlib.sha256(f"{deck_id}\x1f{' '.join(text.split())}".encode()).hexdigest()[:19]


def card_id_of(digest: str) -> str:
    return "c" + digest[:23]


def new_card(
    deck_id: str, content: Content, *, note: str | None, tags: list[str], now: datetime, source: Any = None
) -> tuple[str, dict[str, Any]]:
    """The id and stored document of a new card. The id follows from the content, so
    creating the same card twice creates it once."""
    digest = content_hash(deck_id, content)
    schedule = Schedule(state="new", due=now, tags=tuple(dict.fromkeys(tags)))
    doc = {
        "deckId": deck_id,
        "noteId": note,
        "kind": content.kind,
        "front": content.front,
        "back": content.back,
        "text": content.text,
        "clozeIndex": content.cloze_index,
        "source": source,
        "contentHash": digest,
        "createdAt": now,
        "updatedAt": now,
        **schedule.to_stored(),
    }
    return card_id_of(digest), doc


@dataclass(frozen=True)
class CardEdit:
    """What an edit of a stored card changes, and the user's ``nextDueAt`` it may lower."""

    changes: dict[str, Any]
    lower_next_due_to: datetime | None = None


def edit_card(
    data: dict[str, Any],
    *,
    front: str | None,
    back: str | None,
    tags: list[str] | None,
    deck_id: str | None,
    suspended: bool | None,
    now: datetime,
) -> CardEdit:
    """Edit content or tags, move to another deck, suspend or unsuspend. Pure: the caller
    checks the target deck exists and applies the result."""
    changes: dict[str, Any] = {"updatedAt": now}
    if front is not None or back is not None:
        if data.get("kind") == "cloze":
            raise errors.Invalid(
                "A cloze card's front and back follow from its note; create the note again instead.",
                code="cloze_not_editable",
            )
        new_front = front if front is not None else data.get("front", "")
        new_back = back if back is not None else data.get("back", "")
        changes |= {"front": new_front, "back": new_back}
        changes["contentHash"] = content_hash(data.get("deckId", ""), Content(front=new_front, back=new_back))
    if tags is not None:
        changes["tags"] = list(dict.fromkeys(tags))
    if deck_id is not None and deck_id != data.get("deckId"):
        changes["deckId"] = deck_id
    lower: datetime | None = None
    if suspended is not None:
        schedule = Schedule.from_stored(data).with_(suspended=suspended)
        changes |= {"suspended": schedule.suspended, "queue": schedule.queue}
        if not suspended and schedule.state != "new" and schedule.due is not None:
            lower = schedule.due
    return CardEdit(changes=changes, lower_next_due_to=lower)
