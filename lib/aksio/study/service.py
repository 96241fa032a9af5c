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

from aksio import errors
from aksio import firestore as fs
from aksio.schema import ListQuery
from aksio.settings import of_user as settings_of
from aksio.study import api
from aksio.study import queries as q
from aksio.study.model import Content, Schedule, cloze_cards, edit_card, new_card, note_id
from aksio.study.repository import Exists, FirestoreStudy, StudyTx, existing_card

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

__all__ = [
    "card_view",
    "create_cards",
    "create_deck",
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
    "settings_of",
    "update_card",
    "update_deck",
]

DELETE_BATCH = 400
DEDUPE_IN = 30  # values per "in" query


def live_deck(data: dict[str, Any] | None, deck_id: str) -> dict[str, Any]:
    """The deck's fields; 404 for a deck that does not exist or is being deleted."""
    if data is None or data.get("deleting"):
        raise errors.NotFound(f"No deck {deck_id}.", code="deck_not_found")
    return data


def _deck_view(card_id: str, data: dict[str, Any], card_count: int | None = None) -> api.Deck:
    return api.Deck(
        id=card_id,
        name=data.get("name", ""),
        description=data.get("description"),
        card_count=card_count,
        created_at=data.get("createdAt"),
        updated_at=data.get("updatedAt"),
    )


def card_view(data: dict[str, Any], card_id: str) -> api.Card:
    schedule = Schedule.from_stored(data)
    return api.Card(
        id=card_id,
        deck_id=data.get("deckId", ""),
        note_id=data.get("noteId"),
        kind=data.get("kind", "basic"),
        front=data.get("front", ""),
        back=data.get("back", ""),
        text=data.get("text"),
        cloze_index=data.get("clozeIndex"),
        tags=list(schedule.tags),
        suspended=schedule.suspended,
        state=schedule.state,
        queue=schedule.queue,
        step=schedule.step,
        stability=schedule.stability,
        difficulty=schedule.difficulty,
        due=schedule.due,
        last_review=schedule.last_review,
        reps=schedule.reps,
        lapses=schedule.lapses,
        source=data.get("source"),
        content_hash=data.get("contentHash"),
        created_at=data.get("createdAt"),
        updated_at=data.get("updatedAt"),
    )


# -- decks ----------------------------------------------------------------------------------


def create_deck(db: Client, uid: str, body: api.NewDeck) -> tuple[api.Deck, bool]:
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
        return _deck_view(deck_id, data), False
    return _deck_view(deck_id, q.read_deck(db, uid, deck_id) or doc), True


def list_decks(db: Client, uid: str, query: ListQuery) -> api.DeckPage:
    snaps, next_cursor = q.page_decks(db, uid, query.cursor, query.limit)
    decks = [_deck_view(s.id, fs.data_of(s)) for s in snaps if not fs.data_of(s).get("deleting")]
    return api.DeckPage(decks=decks, next_cursor=next_cursor)


def get_deck(db: Client, uid: str, deck_id: str) -> api.Deck:
    data = live_deck(q.read_deck(db, uid, deck_id), deck_id)
    return _deck_view(deck_id, data, q.count_deck_cards(db, uid, deck_id))


def update_deck(db: Client, uid: str, deck_id: str, body: api.DeckPatch) -> api.Deck:
    changes: dict[str, Any] = {"updatedAt": fs.utcnow()}
    if body.name is not None:
        changes["name"] = body.name
    if "description" in body.model_fields_set:
        changes["description"] = body.description

    def change(tx: StudyTx) -> dict[str, Any]:
        data = live_deck(tx.deck(deck_id), deck_id)
        tx.update_deck(deck_id, changes)
        return data | changes

    return _deck_view(deck_id, FirestoreStudy(db, uid).run(change, what="deck update"))


def delete_deck(db: Client, uid: str, deck_id: str) -> api.Deleted:
    """Delete the deck and its cards. Marked first (no card can be added any more), then
    swept in batches, then removed; a retry after a crash continues the sweep."""

    def mark(tx: StudyTx) -> None:
        if tx.deck(deck_id) is None:
            raise errors.NotFound(f"No deck {deck_id}.", code="deck_not_found")
        tx.update_deck(deck_id, {"deleting": True, "updatedAt": fs.utcnow()})

    FirestoreStudy(db, uid).run(mark, what="deck delete")
    deleted = q.sweep_deck(db, uid, deck_id, DELETE_BATCH)
    return api.Deleted(id=deck_id, cards_deleted=deleted)


# -- cards ----------------------------------------------------------------------------------


def create_cards(db: Client, uid: str, body: api.NewCard) -> api.CardsCreated:
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

    def create(tx: StudyTx) -> None:
        live_deck(tx.deck(body.deck_id), body.deck_id)
        for card_id, doc in docs:
            tx.create_card(card_id, doc)

    try:
        FirestoreStudy(db, uid).run(create, what="card create")
    except Exists:
        found = q.read_cards(db, uid, [cid for cid, _ in docs])
        stored = [(cid, data) for cid, data in found.items() if data is not None]
        return api.CardsCreated(cards=[card_view(data, cid) for cid, data in stored], created=False)
    return api.CardsCreated(cards=[card_view(doc, cid) for cid, doc in docs], created=True)


def list_cards(db: Client, uid: str, query: api.CardListQuery) -> api.CardPage:
    if query.deck_id:
        live_deck(q.read_deck(db, uid, query.deck_id), query.deck_id)
    snaps, next_cursor = q.page_cards(db, uid, query.deck_id, query.cursor, query.limit)
    return api.CardPage(cards=[card_view(fs.data_of(s), s.id) for s in snaps], next_cursor=next_cursor)


def get_card(db: Client, uid: str, card_id: str) -> api.Card:
    data = existing_card(q.read_card(db, uid, card_id), card_id)
    return card_view(data, card_id)


def update_card(db: Client, uid: str, card_id: str, body: api.CardPatch) -> api.Card:
    """Edit content or tags, move to another deck, suspend or unsuspend — atomically."""
    now = fs.utcnow()

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


def delete_card(db: Client, uid: str, card_id: str) -> api.Deleted:
    if not q.delete_card(db, uid, card_id):
        raise errors.NotFound(f"No card {card_id}.", code="card_not_found")
    return api.Deleted(id=card_id)


# -- for other packages ---------------------------------------------------------------------


def existing_card_ids(db: Client, uid: str, cards: Sequence[tuple[str, dict[str, Any]]]) -> set[str]:
    """Ids of ``cards`` (new cards from :func:`new_card`) the user already has in some deck:
    same normalized front key (``source.key``) or the same front."""
    return q.existing_card_ids(db, uid, cards, DEDUPE_IN)


def mark_source_removed(db: Client, uid: str, document_id: str) -> int:
    """Cards made from a deleted document keep existing, their source marked removed."""
    return q.mark_source_removed(db, uid, document_id, DELETE_BATCH)


def user_settings(db: Client, uid: str) -> Any:
    """The user's study settings."""
    return settings_of(fs.read_user(db, uid))
