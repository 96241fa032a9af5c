"""The study core's service for decks and cards, and its public API for other packages.

Only :mod:`aksio.study.repository` (and :mod:`aksio.study.queries`) read and write
``decks``, ``cards`` and ``reviews``; other packages (generation, documents, endpoints) call
the functions here. Every path starts at ``users/{uid}``, so another user's deck or card is
simply not found (404).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aksio import errors, prefs
from aksio import firestore as fs
from aksio.study import queries as q
from aksio.study.model import Content, Schedule, cloze_cards, edit_card, new_card, note_id
from aksio.study.repository import Exists, FirestoreStudy, StudyTx, existing_card
from aksio.wire import compact, iso

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

    from aksio.schema import ListQuery
    from aksio.study import api

# Answers are in the API's JSON form (the shapes of aksio.study.api), built without pydantic
# so that reading decks and cards does not import it (cold start).
Json = dict[str, Any]

__all__ = [
    "add_cards",
    "card_view",
    "create_cards",
    "create_deck",
    "deck_cards",
    "delete_card",
    "delete_deck",
    "existing_card_ids",
    "get_card",
    "get_deck",
    "list_cards",
    "list_decks",
    "live_deck",
    "mark_source_removed",
    "new_card",
    "note_id",
    "update_card",
    "update_deck",
]

DELETE_BATCH = 400
DEDUPE_IN = 30  # values per "in" query
COURSE_ITEMS = 1000  # decks of one course read at a time


def live_deck(data: dict[str, Any] | None, deck_id: str) -> dict[str, Any]:
    """The deck's fields; 404 for a deck that does not exist or is being deleted."""
    if data is None or data.get("deleting"):
        raise errors.NotFound(f"No deck {deck_id}.", code="deck_not_found")
    return data


def deck_view(deck_id: str, data: dict[str, Any], card_count: int | None = None) -> Json:
    """A deck in the API's form (:class:`aksio.study.api.Deck`)."""
    return compact(
        {
            "id": deck_id,
            "name": data.get("name", ""),
            "description": data.get("description"),
            "cardCount": card_count,
            "courseId": data.get("courseId"),
            "sectionId": data.get("sectionId"),
            "createdAt": iso(data.get("createdAt")),
            "updatedAt": iso(data.get("updatedAt")),
        }
    )


def card_view(data: dict[str, Any], card_id: str) -> Json:
    """A card in the API's form (:class:`aksio.study.api.Card`)."""
    schedule = Schedule.from_stored(data)
    return compact(
        {
            "id": card_id,
            "deckId": data.get("deckId", ""),
            "noteId": data.get("noteId"),
            "kind": data.get("kind", "basic"),
            "front": data.get("front", ""),
            "back": data.get("back", ""),
            "text": data.get("text"),
            "clozeIndex": data.get("clozeIndex"),
            "tags": list(schedule.tags),
            "suspended": schedule.suspended,
            "state": schedule.state,
            "queue": schedule.queue,
            "step": schedule.step,
            "stability": schedule.stability,
            "difficulty": schedule.difficulty,
            "due": iso(schedule.due),
            "lastReview": iso(schedule.last_review),
            "reps": schedule.reps,
            "lapses": schedule.lapses,
            "source": data.get("source"),
            "contentHash": data.get("contentHash"),
            "createdAt": iso(data.get("createdAt")),
            "updatedAt": iso(data.get("updatedAt")),
        }
    )


# -- decks ----------------------------------------------------------------------------------


def create_deck(db: Client, uid: str, body: api.NewDeck) -> tuple[Json, bool]:
    """Create a deck; returns it and whether it is new. With a client id, a retry of the same
    create is answered with the existing deck, and a different deck under that id is a 409."""
    now = fs.utcnow()
    deck_id = body.id or uuid.uuid4().hex[:20]
    doc = {"name": body.name, "description": body.description, "createdAt": now, "updatedAt": now}
    try:
        FirestoreStudy(db, uid).run(lambda tx: tx.create_deck(deck_id, doc), what="deck create")
    except Exists:  # only possible with a client id
        data = q.read_deck(db, uid, deck_id) or {}
        if data.get("deleting") or (data.get("name"), data.get("description")) != (body.name, body.description):
            raise errors.Conflict(f"Deck {deck_id} already exists with other content.", code="deck_exists") from None
        return deck_view(deck_id, data), False
    return deck_view(deck_id, q.read_deck(db, uid, deck_id) or doc), True


def list_decks(db: Client, uid: str, query: ListQuery) -> Json:
    snaps, next_cursor = q.page_decks(db, uid, query.cursor, query.limit)
    decks = [deck_view(s.id, fs.data_of(s)) for s in snaps if not fs.data_of(s).get("deleting")]
    return compact({"decks": decks, "nextCursor": next_cursor})


def get_deck(db: Client, uid: str, deck_id: str) -> Json:
    data = live_deck(q.read_deck(db, uid, deck_id), deck_id)
    return deck_view(deck_id, data, q.count_deck_cards(db, uid, deck_id))


def update_deck(db: Client, uid: str, deck_id: str, body: api.DeckPatch) -> Json:
    changes: dict[str, Any] = {"updatedAt": fs.utcnow()}
    if body.name is not None:
        changes["name"] = body.name
    if "description" in body.model_fields_set:
        changes["description"] = body.description

    def change(tx: StudyTx) -> dict[str, Any]:
        data = live_deck(tx.deck(deck_id), deck_id)
        from aksio.courses import service as courses

        changes.update(courses.placement(db, uid, data, body))
        tx.update_deck(deck_id, changes)
        return {k: v for k, v in (data | changes).items() if v is not fs.DELETE}

    return deck_view(deck_id, FirestoreStudy(db, uid).run(change, what="deck update"))


def delete_deck(db: Client, uid: str, deck_id: str) -> Json:
    """Delete the deck and its cards. Marked first (no card can be added any more), then
    swept in batches, then removed; a retry after a crash continues the sweep."""

    def mark(tx: StudyTx) -> None:
        if tx.deck(deck_id) is None:
            raise errors.NotFound(f"No deck {deck_id}.", code="deck_not_found")
        tx.update_deck(deck_id, {"deleting": True, "updatedAt": fs.utcnow()})

    FirestoreStudy(db, uid).run(mark, what="deck delete")
    deleted = q.sweep_deck(db, uid, deck_id, DELETE_BATCH)
    return {"id": deck_id, "deleted": True, "cardsDeleted": deleted}


# -- cards ----------------------------------------------------------------------------------


def create_cards(db: Client, uid: str, body: api.NewCard) -> Json:
    now = fs.utcnow()
    if body.cloze is not None:
        contents = cloze_cards(body.cloze)
        note: str | None = note_id(body.deck_id, body.cloze)
    else:
        assert body.front is not None
        assert body.back is not None
        contents = [Content(front=body.front, back=body.back)]
        note = None
    # siblings come due one microsecond apart, so new cards of a note are studied in order
    docs = [
        new_card(body.deck_id, c, note=note, tags=body.tags, now=now + timedelta(microseconds=i))
        for i, c in enumerate(contents)
    ]

    q.register_tags(db, uid, body.tags)  # before the cards: the names are a superset

    def create(tx: StudyTx) -> None:
        live_deck(tx.deck(body.deck_id), body.deck_id)
        for card_id, doc in docs:
            tx.create_card(card_id, doc)

    try:
        FirestoreStudy(db, uid).run(create, what="card create")
    except Exists:
        found = q.read_cards(db, uid, [cid for cid, _ in docs])
        stored = [(cid, data) for cid, data in found.items() if data is not None]
        return {"cards": [card_view(data, cid) for cid, data in stored], "created": False}
    return {"cards": [card_view(doc, cid) for cid, doc in docs], "created": True}


def list_cards(db: Client, uid: str, query: api.CardListQuery) -> Json:
    if query.deck_id:
        live_deck(q.read_deck(db, uid, query.deck_id), query.deck_id)
    from aksio.study.tags import normalise

    tag = normalise(query.tag, "tag") if query.tag else None
    snaps, next_cursor = q.page_cards(db, uid, query.deck_id, query.cursor, query.limit, tag=tag)
    return compact({"cards": [card_view(fs.data_of(s), s.id) for s in snaps], "nextCursor": next_cursor})


def get_card(db: Client, uid: str, card_id: str) -> Json:
    data = existing_card(q.read_card(db, uid, card_id), card_id)
    return card_view(data, card_id)


def update_card(db: Client, uid: str, card_id: str, body: api.CardPatch) -> Json:
    """Edit content or tags, move to another deck, suspend or unsuspend — atomically."""
    now = fs.utcnow()
    q.register_tags(db, uid, body.tags or [])

    def change(tx: StudyTx) -> dict[str, Any]:
        card_data, user, deck = tx.card_and_user(card_id, deck_id=body.deck_id, user=body.suspended is False)
        data = existing_card(card_data, card_id)
        edit = edit_card(
            data,
            front=body.front,
            back=body.back,
            tags=body.tags,
            deck_id=body.deck_id,
            suspended=body.suspended,
            now=now,
        )
        if "deckId" in edit.changes:
            live_deck(deck, str(body.deck_id))
        if edit.lower_next_due_to is not None:
            current = (user or {}).get("nextDueAt")
            if current is None or edit.lower_next_due_to < current:
                tx.set_next_due(edit.lower_next_due_to)
        tx.update_card(card_id, edit.changes)
        return data | edit.changes

    return card_view(FirestoreStudy(db, uid).run(change, what="card update"), card_id)


def delete_card(db: Client, uid: str, card_id: str) -> Json:
    if not q.delete_card(db, uid, card_id):
        raise errors.NotFound(f"No card {card_id}.", code="card_not_found")
    return {"id": card_id, "deleted": True}


# -- reviews (reading; grading is aksio.study.reviews) ------------------------------------


def review_view(result: dict[str, Any]) -> Json:
    """A stored review result in the API's form (:class:`aksio.study.api.ReviewResult`)."""
    view = compact(dict(result))
    if isinstance(view.get("card"), dict):
        view["card"] = compact(view["card"])
    return view


def get_review(db: Client, uid: str, review_id: str) -> Json:
    data = FirestoreStudy(db, uid).review(review_id)
    if data is None:
        raise errors.NotFound(f"No review {review_id}.", code="review_not_found")
    return review_view(data["result"])


# -- for other packages ---------------------------------------------------------------------


def existing_card_ids(db: Client, uid: str, cards: Sequence[tuple[str, dict[str, Any]]]) -> set[str]:
    """Ids of ``cards`` (new cards from :func:`new_card`) the user already has in some deck:
    same normalized front key (``source.key``) or the same front."""
    return q.existing_card_ids(db, uid, cards, DEDUPE_IN)


def deck_cards(
    db: Client, uid: str, deck_id: str, limit: int = 2000, fields: Sequence[str] | None = None
) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """A live deck (404 otherwise) and up to ``limit`` of its cards, as stored (only
    ``fields`` of them when given)."""
    deck = live_deck(q.read_deck(db, uid, deck_id), deck_id)
    return deck, q.deck_cards(db, uid, deck_id, limit, fields)


def add_cards(
    db: Client, uid: str, deck_id: str, items: Sequence[tuple[Content, Any]], *, tags: Sequence[str] = ()
) -> tuple[list[str], int]:
    """Basic cards (content, source citation) into a live deck, deduplicated against the
    deck (the same front, normalized, is the same card) and idempotent (a card's id follows
    from its content): ``(ids created, how many were already in the deck)``."""
    from aksio.ai.text import normalize

    _, existing = deck_cards(db, uid, deck_id, 20000, ["front"])
    fronts = {normalize(str(d.get("front") or "")) for _, d in existing}
    now = fs.utcnow()
    docs: list[tuple[str, dict[str, Any]]] = []
    present = 0
    for i, (content, source) in enumerate(items):
        key = normalize(content.front)
        if key in fronts:
            present += 1
            continue
        fronts.add(key)
        docs.append(
            new_card(deck_id, content, note=None, tags=list(tags), now=now + timedelta(microseconds=i), source=source)
        )

    def create(tx: StudyTx) -> list[str]:
        live_deck(tx.deck(deck_id), deck_id)
        found = tx.cards([cid for cid, _ in docs]) if docs else {}
        made = []
        for cid, doc in docs:
            if found.get(cid) is None:
                tx.create_card(cid, doc)
                made.append(cid)
        return made

    made = FirestoreStudy(db, uid).run(create, what="cards add")
    return made, present + len(docs) - len(made)


def due_summary(db: Client, uid: str, until: Any, limit: int = 5000) -> tuple[int, str | None, int]:
    """Cards due by ``until`` (learning and review; at most ``limit`` counted): how many, and
    the deck with most of them (its name and its count), for a reminder."""
    decks = q.due_decks(db, uid, until, limit)
    if not decks:
        return 0, None, 0
    counts: dict[str, int] = {}
    for deck in decks:
        counts[deck] = counts.get(deck, 0) + 1
    top = max(counts, key=lambda d: (counts[d], d))
    name = (q.read_deck(db, uid, top) or {}).get("name") if top else None
    return len(decks), (str(name) if name else None), counts[top]


def mark_source_removed(db: Client, uid: str, document_id: str) -> int:
    """Cards made from a deleted document keep existing, their source marked removed."""
    return q.mark_source_removed(db, uid, document_id, DELETE_BATCH)


def course_decks(db: Client, uid: str, course_id: str, section_id: str | None = None) -> list[Json]:
    """The live decks of a course (of one section of it when given): ``{id, name, sectionId}``."""
    decks = [
        compact({"id": deck_id, "name": data.get("name", ""), "sectionId": data.get("sectionId")})
        for deck_id, data in q.course_decks(db, uid, course_id, COURSE_ITEMS)
        if not data.get("deleting")
    ]
    return [d for d in decks if section_id is None or d.get("sectionId") == section_id]


def unlink_course_decks(db: Client, uid: str, course_id: str, section_ids: Sequence[str] | None = None) -> int:
    """Take a course's decks out of it (or, with ``section_ids``, out of those sections only)."""
    if section_ids is not None:
        ids = [d["id"] for d in course_decks(db, uid, course_id) if d.get("sectionId") in set(section_ids)]
        return q.update_decks(db, uid, ids, {"sectionId": fs.DELETE}, DELETE_BATCH)
    ids = [deck_id for deck_id, _ in q.course_decks(db, uid, course_id, COURSE_ITEMS)]
    return q.update_decks(db, uid, ids, {"courseId": fs.DELETE, "sectionId": fs.DELETE}, DELETE_BATCH)


def delete_course_decks(db: Client, uid: str, course_id: str) -> int:
    """Delete a course's decks with their cards, one deck at a time (a retry continues)."""
    ids = [deck_id for deck_id, _ in q.course_decks(db, uid, course_id, COURSE_ITEMS)]
    for deck_id in ids:
        delete_deck(db, uid, deck_id)
    return len(ids)


def user_settings(db: Client, uid: str) -> prefs.StudySettings:
    """The user's study settings."""
    return prefs.of_user(fs.read_user(db, uid))


def delete_user_data(db: Client, uid: str) -> int:
    """Account deletion: the user's decks, cards and review logs (the study fields of the
    user document go with it)."""
    return q.delete_user_study(db, uid)
