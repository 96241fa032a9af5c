"""The study repository's queries: reads and batch writes that are not one transaction
(pages, counts, the queue's and the stats' queries, deck sweeps, card markings).

Part of the repository (:mod:`aksio.study.repository`): only these two modules touch the
``decks``, ``cards`` and ``reviews`` collections. Indexes these queries need in production
(terraform/firestore.indexes.json): ``cards`` on (deckId, createdAt, __name__),
(queue, due, __name__) and (deckId, queue, due, __name__); everything else is single-field.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aksio import firestore as fs
from aksio import paging
from aksio.study.repository import cards_col, decks_col

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

FORECAST_MAX_CARDS = 20000


def read_deck(db: Client, uid: str, deck_id: str) -> dict[str, Any] | None:
    return fs.read(decks_col(db, uid).document(deck_id))


def read_card(db: Client, uid: str, card_id: str) -> dict[str, Any] | None:
    return fs.read(cards_col(db, uid).document(card_id))


def page_decks(db: Client, uid: str, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    query = decks_col(db, uid).order_by("createdAt").order_by("__name__")
    return paging.page(query, "createdAt", cursor, limit)


def count_deck_cards(db: Client, uid: str, deck_id: str) -> int:
    return fs.count(cards_col(db, uid).where(filter=fs.where("deckId", "==", deck_id)))


def deck_cards(
    db: Client, uid: str, deck_id: str, limit: int, fields: Sequence[str] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """Up to ``limit`` cards of a deck (in no particular order: one equality filter), with
    only ``fields`` when given."""
    query = cards_col(db, uid).where(filter=fs.where("deckId", "==", deck_id)).limit(limit)
    if fields is not None:
        query = query.select(list(fields))
    return [(s.id, fs.data_of(s)) for s in query.stream()]


def sweep_deck(db: Client, uid: str, deck_id: str, batch_size: int) -> int:
    """Delete a deck's cards in batches, then the deck; returns the cards deleted."""
    query = cards_col(db, uid).where(filter=fs.where("deckId", "==", deck_id))
    deleted = fs.delete_matching(db, query, batch_size)
    decks_col(db, uid).document(deck_id).delete()
    return deleted


def read_cards(db: Client, uid: str, card_ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
    col = cards_col(db, uid)
    found = {s.id: fs.read_snapshot(s) for s in db.get_all([col.document(c) for c in card_ids])}
    return {c: found.get(c) for c in card_ids}


def page_cards(
    db: Client, uid: str, deck_id: str | None, cursor: str | None, limit: int
) -> tuple[list[Any], str | None]:
    query = cards_col(db, uid)
    if deck_id:
        query = query.where(filter=fs.where("deckId", "==", deck_id))
    return paging.page(query.order_by("createdAt").order_by("__name__"), "createdAt", cursor, limit)


def delete_card(db: Client, uid: str, card_id: str) -> bool:
    """Delete a card; False when there was none."""
    from google.api_core import exceptions as gexc

    try:
        cards_col(db, uid).document(card_id).delete(option=db.write_option(exists=True))
    except gexc.NotFound:
        return False
    return True


def existing_card_ids(db: Client, uid: str, cards: Sequence[tuple[str, dict[str, Any]]], chunk: int) -> set[str]:
    """Ids of ``cards`` whose normalized front key (``source.key``) or front the user already has."""
    if not cards:
        return set()
    col = cards_col(db, uid)
    keys = {doc["source"]["key"]: cid for cid, doc in cards}
    fronts: dict[str, list[str]] = {}
    for cid, doc in cards:
        fronts.setdefault(doc["front"], []).append(cid)
    found: set[str] = set()
    key_list = list(keys)
    for start in range(0, len(key_list), chunk):
        part = key_list[start : start + chunk]
        for snap in col.where(filter=fs.where("source.key", "in", part)).select(["source.key"]).stream():
            key = (fs.data_of(snap).get("source") or {}).get("key")
            if key in keys:
                found.add(keys[key])
    front_list = [f for f in fronts if len(f.encode()) <= 1500]  # longer values are not indexed whole
    for start in range(0, len(front_list), chunk):
        part = front_list[start : start + chunk]
        for snap in col.where(filter=fs.where("front", "in", part)).select(["front"]).stream():
            found.update(fronts.get(fs.data_of(snap).get("front", ""), []))
    return found


def mark_source_removed(db: Client, uid: str, document_id: str, batch_size: int) -> int:
    snaps = list(cards_col(db, uid).where(filter=fs.where("source.documentId", "==", document_id)).stream())
    for start in range(0, len(snaps), batch_size):
        batch = db.batch()
        for snap in snaps[start : start + batch_size]:
            batch.update(snap.reference, {"source.removed": True})
        batch.commit()
    return len(snaps)


# -- the queue and the stats ----------------------------------------------------------------


def _scope(db: Client, uid: str, deck_id: str | None) -> Any:
    base = cards_col(db, uid)
    return base.where(filter=fs.where("deckId", "==", deck_id)) if deck_id else base


def due_cards(db: Client, uid: str, deck_id: str | None, queue: str, *, now: datetime, limit: int) -> list[Any]:
    """Cards of ``queue`` (learning/review) due by ``now``, earliest first."""
    query = (
        _scope(db, uid, deck_id)
        .where(filter=fs.where("queue", "==", queue))
        .where(filter=fs.where("due", "<=", now))
        .order_by("due")
        .limit(limit)
    )
    return list(query.stream())


def new_cards(db: Client, uid: str, deck_id: str | None, limit: int) -> list[Any]:
    query = _scope(db, uid, deck_id).where(filter=fs.where("queue", "==", "new")).order_by("due").limit(limit)
    return list(query.stream())


def count_due(db: Client, uid: str, deck_id: str | None, queue: str, now: datetime) -> int:
    scope = _scope(db, uid, deck_id).where(filter=fs.where("queue", "==", queue))
    return fs.count(scope.where(filter=fs.where("due", "<=", now)))


def count_new(db: Client, uid: str, deck_id: str | None, limit: int) -> int:
    return fs.count(_scope(db, uid, deck_id).where(filter=fs.where("queue", "==", "new")).limit(limit))


def count_where(db: Client, uid: str, field: str, value: Any) -> int:
    return fs.count(cards_col(db, uid).where(filter=fs.where(field, "==", value)))


def due_decks(db: Client, uid: str, until: datetime, limit: int) -> list[str]:
    """The decks of the scheduled cards due by ``until`` (one entry per card, at most ``limit``)."""
    query = (
        cards_col(db, uid)
        .where(filter=fs.where("queue", "in", ["learning", "review"]))
        .where(filter=fs.where("due", "<=", until))
        .select(["deckId"])
        .limit(limit)
    )
    return [str(fs.data_of(s).get("deckId") or "") for s in query.stream()]


def due_before(db: Client, uid: str, horizon: datetime) -> list[datetime]:
    """The due times of the scheduled (learning/review) cards due before ``horizon``."""
    query = (
        cards_col(db, uid)
        .where(filter=fs.where("queue", "in", ["learning", "review"]))
        .where(filter=fs.where("due", "<", horizon))
        .order_by("due")
        .select(["due"])
        .limit(FORECAST_MAX_CARDS)
    )
    dues = (fs.data_of(s).get("due") for s in query.stream())
    return [d for d in dues if isinstance(d, datetime)]
