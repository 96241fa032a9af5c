"""The study core's repository: the only code that reads and writes ``decks``, ``cards``
and ``reviews`` under ``users/{uid}`` (and the study fields of the user document: ``stats``,
``nextDueAt``).

Two shapes, one per kind of work:

- :class:`StudyStore` (``store.run(fn)``): a read-modify-write of one user's study data in
  one transaction, ``fn`` getting a :class:`StudyTx` (reads first, then writes). A create that
  collides with an existing document ends the transaction with :class:`Exists`.
  :class:`FirestoreStudy` runs it on Firestore (:func:`aksio.firestore.run_transaction`);
  tests run the same services on :class:`aksio.study.memory.MemoryStudy`.
- Plain functions for what is not a transaction (lists, counts, queue and stats queries,
  deck sweeps): :mod:`aksio.study.queries`.

Cost of a review: the card and the user are read in one ``get_all`` (2 reads); the card,
the review log and the user are written (3 writes).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from aksio import errors
from aksio import firestore as fs
from aksio.study import stats as stats_mod

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

T = TypeVar("T")
DECKS, CARDS, REVIEWS = "decks", "cards", "reviews"


class Exists(Exception):
    """A create met an existing document (the transaction wrote nothing)."""


def existing_card(data: dict[str, Any] | None, card_id: str) -> dict[str, Any]:
    """A card's fields; 404 for a card that does not exist."""
    if data is None:
        raise errors.NotFound(f"No card {card_id}.", code="card_not_found")
    return data


def decks_col(db: Client, uid: str) -> Any:
    return fs.user_col(db, uid, DECKS)


def cards_col(db: Client, uid: str) -> Any:
    return fs.user_col(db, uid, CARDS)


def reviews_col(db: Client, uid: str) -> Any:
    return fs.user_col(db, uid, REVIEWS)


class StudyTx(Protocol):
    """One user's study data inside one transaction: every read before any write."""

    def card_and_user(
        self, card_id: str, *, deck_id: str | None = None, user: bool = True
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None]:
        """(card, user, deck) fields in one read; None for a document that does not exist
        or was not asked for (the deck when ``deck_id`` is None, the user when not ``user``)."""

    def card(self, card_id: str) -> dict[str, Any] | None: ...

    def deck(self, deck_id: str) -> dict[str, Any] | None: ...

    def cards(self, card_ids: list[str]) -> dict[str, dict[str, Any] | None]: ...

    def review(self, review_id: str) -> dict[str, Any] | None: ...

    def create_deck(self, deck_id: str, doc: dict[str, Any]) -> None: ...

    def update_deck(self, deck_id: str, changes: dict[str, Any]) -> None: ...

    def create_card(self, card_id: str, doc: dict[str, Any]) -> None: ...

    def update_card(self, card_id: str, changes: dict[str, Any]) -> None: ...

    def create_review(self, review_id: str, doc: dict[str, Any]) -> None: ...

    def update_review(self, review_id: str, changes: dict[str, Any]) -> None: ...

    def write_user(
        self,
        user: dict[str, Any] | None,
        *,
        stats: dict[str, Any],
        next_due: datetime | None,
        now: datetime,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """The user's new ``stats`` and ``nextDueAt`` (``user`` as read; None when the document
        is new), and ``extra`` fields of the same write (e.g. ``nextReminderAt``)."""

    def set_next_due(self, next_due: datetime) -> None: ...


class StudyStore(Protocol):
    """Where one user's study data lives."""

    def run(self, fn: Callable[[StudyTx], T], *, what: str = "study") -> T: ...

    def review(self, review_id: str) -> dict[str, Any] | None:
        """A stored review log, outside any transaction."""


# -- Firestore ------------------------------------------------------------------------------


class FirestoreStudyTx:
    def __init__(self, db: Client, uid: str, tx: Any) -> None:
        self.db, self.uid, self.tx = db, uid, tx
        self._user = fs.user_doc(db, uid)

    def _card_ref(self, card_id: str) -> Any:
        return cards_col(self.db, self.uid).document(card_id)

    def _deck_ref(self, deck_id: str) -> Any:
        return decks_col(self.db, self.uid).document(deck_id)

    def _review_ref(self, review_id: str) -> Any:
        return reviews_col(self.db, self.uid).document(review_id)

    def card_and_user(
        self, card_id: str, *, deck_id: str | None = None, user: bool = True
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None]:
        card_ref = self._card_ref(card_id)
        deck_ref = self._deck_ref(deck_id) if deck_id is not None else None
        refs = [card_ref] + ([self._user] if user else []) + ([deck_ref] if deck_ref is not None else [])
        snaps = fs.get_all(self.tx, refs)
        return (
            fs.read_snapshot(snaps[card_ref.path]),
            fs.read_snapshot(snaps[self._user.path]) if user else None,
            fs.read_snapshot(snaps[deck_ref.path]) if deck_ref is not None else None,
        )

    def card(self, card_id: str) -> dict[str, Any] | None:
        return fs.read(self._card_ref(card_id), self.tx)

    def deck(self, deck_id: str) -> dict[str, Any] | None:
        return fs.read(self._deck_ref(deck_id), self.tx)

    def cards(self, card_ids: list[str]) -> dict[str, dict[str, Any] | None]:
        if not card_ids:
            return {}
        refs = [self._card_ref(c) for c in card_ids]
        snaps = fs.get_all(self.tx, refs)
        return {r.id: fs.read_snapshot(snaps[r.path]) for r in refs}

    def review(self, review_id: str) -> dict[str, Any] | None:
        return fs.read(self._review_ref(review_id), self.tx)

    def create_deck(self, deck_id: str, doc: dict[str, Any]) -> None:
        self.tx.create(self._deck_ref(deck_id), doc)

    def update_deck(self, deck_id: str, changes: dict[str, Any]) -> None:
        self.tx.update(self._deck_ref(deck_id), fs.stored(changes))

    def create_card(self, card_id: str, doc: dict[str, Any]) -> None:
        self.tx.create(self._card_ref(card_id), doc)

    def update_card(self, card_id: str, changes: dict[str, Any]) -> None:
        self.tx.update(self._card_ref(card_id), changes)

    def create_review(self, review_id: str, doc: dict[str, Any]) -> None:
        self.tx.create(self._review_ref(review_id), doc)

    def update_review(self, review_id: str, changes: dict[str, Any]) -> None:
        self.tx.update(self._review_ref(review_id), changes)

    def write_user(
        self,
        user: dict[str, Any] | None,
        *,
        stats: dict[str, Any],
        next_due: datetime | None,
        now: datetime,
        extra: dict[str, Any] | None = None,
    ) -> None:
        # When the stored stats map is in the expected shape only the changed fields are sent
        # (today's entry, the totals, the streak), so the write does not grow with the history;
        # otherwise (first review, or a map written by an older version) the map is replaced.
        from google.cloud import firestore
        from google.cloud.firestore_v1.field_path import FieldPath

        stored = (user or {}).get("stats")
        if user is None or not isinstance(stored, dict) or stats_mod.normalise(stored) != stored:
            data: dict[str, Any] = {"stats": stats, "nextDueAt": next_due} | (extra or {})
            if user is None:
                data["createdAt"] = now
            self.tx.set(self._user, data, merge=list(data))
            return
        update: dict[str, Any] = {"nextDueAt": next_due} | (extra or {})
        for path, value in stats_mod.changes(stored, stats).items():
            key = FieldPath("stats", *path).to_api_repr()
            update[key] = firestore.DELETE_FIELD if value is stats_mod.DELETED else value
        self.tx.update(self._user, update)

    def set_next_due(self, next_due: datetime) -> None:
        self.tx.set(self._user, {"nextDueAt": next_due}, merge=True)


class FirestoreStudy:
    """:class:`StudyStore` on Firestore, for one user."""

    def __init__(self, db: Client, uid: str) -> None:
        self.db, self.uid = db, uid

    def run(self, fn: Callable[[StudyTx], T], *, what: str = "study") -> T:
        try:
            return fs.run_transaction(self.db, lambda tx: fn(FirestoreStudyTx(self.db, self.uid, tx)), what=what)
        except Exception as exc:
            if fs.already_exists(exc):
                raise Exists(str(exc)) from exc
            raise

    def review(self, review_id: str) -> dict[str, Any] | None:
        return fs.read(reviews_col(self.db, self.uid).document(review_id))
