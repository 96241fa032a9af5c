"""The study repository's queries: reads and batch writes that are not one transaction
(pages, counts, the queue's and the stats' queries, deck sweeps, card markings).

Part of the repository (:mod:`aksio.study.repository`): only these two modules touch the
``decks``, ``cards`` and ``reviews`` collections. Indexes these queries need in production
(terraform/firestore.indexes.json): ``cards`` on (deckId, createdAt, __name__),
(queue, due, __name__) and (deckId, queue, due, __name__); everything else is single-field.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aksio import firestore as fs
from aksio import paging
from aksio.study.repository import cards_col, decks_col, reviews_col

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
    forget_deck(db, uid, deck_id)
    decks_col(db, uid).document(deck_id).delete()
    return deleted


def forget_deck(db: Client, uid: str, deck_id: str) -> None:
    """Drop a deleted deck's aggregates from the user's stats (``stats.decks.{deckId}``)."""
    from google.cloud import firestore

    user = fs.user_doc(db, uid)
    if fs.read(user) is not None:
        user.set({"stats": {"decks": {deck_id: firestore.DELETE_FIELD}}}, merge=True)


def course_decks(db: Client, uid: str, course_id: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
    """The decks linked to a course (id and fields), at most ``limit``."""
    query = decks_col(db, uid).where(filter=fs.where("courseId", "==", course_id)).limit(limit)
    return [(s.id, fs.data_of(s)) for s in query.stream()]


def update_decks(db: Client, uid: str, deck_ids: Sequence[str], changes: dict[str, Any], batch_size: int) -> int:
    """Apply ``changes`` to each of ``deck_ids`` (batched, not atomic: a retry redoes it)."""
    col = decks_col(db, uid)
    for start in range(0, len(deck_ids), batch_size):
        batch = db.batch()
        for deck_id in deck_ids[start : start + batch_size]:
            batch.update(col.document(deck_id), fs.stored(changes))
        batch.commit()
    return len(deck_ids)


def read_cards(db: Client, uid: str, card_ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
    col = cards_col(db, uid)
    found = {s.id: fs.read_snapshot(s) for s in db.get_all([col.document(c) for c in card_ids])}
    return {c: found.get(c) for c in card_ids}


def page_cards(
    db: Client, uid: str, deck_id: str | None, cursor: str | None, limit: int, *, tag: str | None = None
) -> tuple[list[Any], str | None]:
    query = cards_col(db, uid)
    if deck_id:
        query = query.where(filter=fs.where("deckId", "==", deck_id))
    if tag:
        query = query.where(filter=fs.where("tags", "array_contains", tag))
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


@dataclass(frozen=True)
class Scope:
    """Which cards the queue and the stats look at: of ``decks`` (None: every deck; a course
    is its decks) and carrying ``tag`` (None: any)."""

    decks: tuple[str, ...] | None = None
    tag: str | None = None


ALL = Scope()
IN_CHUNK = 15  # decks per "in" filter (with "queue in [2]" that is 30 disjunctions, the limit)


def _scoped(db: Client, uid: str, scope: Scope) -> list[Any]:
    """The base queries that together cover ``scope`` (none for a course without decks)."""
    base = cards_col(db, uid)
    if scope.tag is not None:
        base = base.where(filter=fs.where("tags", "array_contains", scope.tag))
    if scope.decks is None:
        return [base]
    decks = list(scope.decks)
    if len(decks) == 1:
        return [base.where(filter=fs.where("deckId", "==", decks[0]))]
    chunks = [decks[i : i + IN_CHUNK] for i in range(0, len(decks), IN_CHUNK)]
    return [base.where(filter=fs.where("deckId", "in", chunk)) for chunk in chunks]


def _merged(parts: list[list[Any]], limit: int) -> list[Any]:
    if len(parts) == 1:
        return parts[0][:limit]
    snaps = [s for part in parts for s in part]
    snaps.sort(key=lambda s: (fs.data_of(s).get("due") or datetime.min.replace(tzinfo=UTC), s.id))
    return snaps[:limit]


def due_cards(db: Client, uid: str, scope: Scope, queue: str, *, now: datetime, limit: int) -> list[Any]:
    """Cards of ``queue`` (learning/review) due by ``now``, earliest first."""
    parts = [
        list(
            base.where(filter=fs.where("queue", "==", queue))
            .where(filter=fs.where("due", "<=", now))
            .order_by("due")
            .limit(limit)
            .stream()
        )
        for base in _scoped(db, uid, scope)
    ]
    return _merged(parts, limit) if parts else []


def new_cards(db: Client, uid: str, scope: Scope, limit: int) -> list[Any]:
    parts = [
        list(base.where(filter=fs.where("queue", "==", "new")).order_by("due").limit(limit).stream())
        for base in _scoped(db, uid, scope)
    ]
    return _merged(parts, limit) if parts else []


def count_due(db: Client, uid: str, scope: Scope, queue: str, now: datetime) -> int:
    return sum(
        fs.count(base.where(filter=fs.where("queue", "==", queue)).where(filter=fs.where("due", "<=", now)))
        for base in _scoped(db, uid, scope)
    )


def count_new(db: Client, uid: str, scope: Scope, limit: int) -> int:
    return min(
        limit,
        sum(
            fs.count(base.where(filter=fs.where("queue", "==", "new")).limit(limit)) for base in _scoped(db, uid, scope)
        ),
    )


def count_scope(db: Client, uid: str, scope: Scope) -> int:
    return sum(fs.count(base) for base in _scoped(db, uid, scope))


def count_where(db: Client, uid: str, field: str, value: Any, scope: Scope = ALL) -> int:
    return sum(fs.count(base.where(filter=fs.where(field, "==", value))) for base in _scoped(db, uid, scope))


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


def due_before(db: Client, uid: str, horizon: datetime, scope: Scope = ALL) -> list[datetime]:
    """The due times of the scheduled (learning/review) cards due before ``horizon``."""
    dues: list[Any] = []
    for base in _scoped(db, uid, scope):
        query = (
            base.where(filter=fs.where("queue", "in", ["learning", "review"]))
            .where(filter=fs.where("due", "<", horizon))
            .order_by("due")
            .select(["due"])
            .limit(FORECAST_MAX_CARDS)
        )
        dues += (fs.data_of(s).get("due") for s in query.stream())
    return sorted(d for d in dues if isinstance(d, datetime))[:FORECAST_MAX_CARDS]


# -- tags -------------------------------------------------------------------------------------

TAG_NAMES = "tagNames"  # on users/{uid}: every tag name a card was given (a superset)


def register_tags(db: Client, uid: str, names: Sequence[str]) -> None:
    """Add ``names`` to the user's tag names (an atomic array union; no read)."""
    from google.cloud import firestore

    if names:
        fs.user_doc(db, uid).set({TAG_NAMES: firestore.ArrayUnion(list(names))}, merge=True)


def unregister_tag(db: Client, uid: str, name: str) -> None:
    from google.cloud import firestore

    fs.user_doc(db, uid).set({TAG_NAMES: firestore.ArrayRemove([name])}, merge=True)


def tag_names(db: Client, uid: str) -> list[str]:
    names = fs.read_user(db, uid).get(TAG_NAMES)
    return [str(n) for n in names] if isinstance(names, list) else []


def retag(db: Client, uid: str, old: str, new: str | None, batch_size: int) -> int:
    """One batch of the cards tagged ``old``: the tag replaced by ``new`` (None: removed),
    each card written only if unchanged since it was read (a concurrent edit fails the batch,
    which the caller runs again). Returns how many cards were changed (0: none is left)."""
    query = cards_col(db, uid).where(filter=fs.where("tags", "array_contains", old)).select(["tags"])
    snaps = list(query.limit(batch_size).stream())
    if not snaps:
        return 0
    batch = db.batch()
    for snap in snaps:
        tags = [str(t) for t in fs.data_of(snap).get("tags") or []]
        changed = list(dict.fromkeys(new if t == old else t for t in tags if new is not None or t != old))
        batch.update(snap.reference, {"tags": changed}, option=db.write_option(last_update_time=snap.update_time))
    batch.commit()
    return len(snaps)


# -- the optimizer's reads and writes (aksio.study.tuning) -------------------------------------

REVIEW_LOG_FIELDS = ("cardId", "rating", "studyDay", "reviewedAt", "undoneAt")


def review_logs(db: Client, uid: str, page: int = 1000) -> Iterator[dict[str, Any]]:
    """Every review log of the user (what the optimizer reads), in pages of ``page``, only the
    fields it needs."""
    query = reviews_col(db, uid).select(REVIEW_LOG_FIELDS).order_by("__name__").limit(page)
    last = None
    while True:
        snaps = list((query.start_after(last) if last is not None else query).stream())
        for snap in snaps:
            yield snap.to_dict() or {}
        if len(snaps) < page:
            return
        last = snaps[-1]


def card_review_logs(db: Client, uid: str, card_ids: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Every review log of the cards ``card_ids`` (an ``in`` query per 30 cards)."""
    ids = list(dict.fromkeys(card_ids))
    for start in range(0, len(ids), 30):
        query = reviews_col(db, uid).where(filter=fs.where("cardId", "in", ids[start : start + 30]))
        for snap in query.stream():
            yield snap.to_dict() or {}


def read_user(db: Client, uid: str) -> dict[str, Any]:
    return fs.read_user(db, uid)


def write_scheduling(db: Client, uid: str, fields: dict[str, Any]) -> None:
    """Merge ``fields`` into the user document's ``fsrs`` map (and top-level ``fsrs*`` markers)."""
    fs.user_doc(db, uid).set(fields, merge=True)


def forget_parameters(db: Client, uid: str) -> None:
    from google.cloud import firestore

    fs.user_doc(db, uid).set({"fsrs": {"parameters": firestore.DELETE_FIELD}}, merge=True)


def users_due_refit(db: Client, limit: int) -> list[str]:
    """Users whose reviews grew enough since their last fit (``fsrsRefitDue``, set by reviews)."""
    query = db.collection(fs.USERS).where(filter=fs.where("fsrsRefitDue", "==", True)).limit(limit)
    return [snap.id for snap in query.select([]).stream()]


def delete_user_study(db: Client, uid: str) -> int:
    """Account deletion: every card, review and deck of the user, in batches."""
    from aksio.study.repository import cards_col, decks_col, reviews_col

    return sum(fs.delete_collection(db, col(db, uid)) for col in (cards_col, reviews_col, decks_col))
