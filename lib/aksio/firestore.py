"""The persistence kernel: the one place that knows how we use Firestore.

- Paths: everything a user owns hangs under ``users/{uid}`` (:func:`user_doc`,
  :func:`user_col`); a repository builds its references from these and from nothing else.
- Transactions: :func:`run_transaction` runs a read-modify-write function with one retry
  budget (:data:`MAX_ATTEMPTS`); contention that outlasts it is :class:`aksio.errors.Contention`
  (a 503 ``contention`` with ``Retry-After`` at the edge), recognised by the exception's type.
- Time and snapshots: :func:`utcnow`, :func:`data_of`, :func:`where`, :func:`caused_by`.

The Google client is imported on first use, so importing this module costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from aksio import errors, log

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client, CollectionReference, DocumentReference, Transaction

_log = log.get_logger("aksio.firestore")
T = TypeVar("T")
E = TypeVar("E", bound=BaseException)

# How often a transaction is tried before it is reported as contention. Firestore aborts a
# transaction whose documents changed (or, with pessimistic locking, that waited too long for
# a lock); each retry starts over with fresh reads, with the client's backoff in between.
MAX_ATTEMPTS = 25
USERS = "users"
Snapshot = Any  # google.cloud.firestore.DocumentSnapshot (its generics add nothing here)


class _Delete:
    """The value that removes a field in an update (``firestore.DELETE_FIELD``), usable by
    pure code that must not import the client."""

    def __repr__(self) -> str:
        return "DELETE"


DELETE: Any = _Delete()


def stored(changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` with :data:`DELETE` turned into Firestore's own sentinel."""
    if not any(v is DELETE for v in changes.values()):
        return changes
    from google.cloud import firestore

    return {k: (firestore.DELETE_FIELD if v is DELETE else v) for k, v in changes.items()}


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- paths ----------------------------------------------------------------------------------


def user_doc(db: Client, uid: str) -> DocumentReference:
    """``users/{uid}``: the root of everything the user owns. A uid that could name another
    path (a "/", "..", a reserved id) is refused (:func:`aksio.ids.valid_uid`)."""
    from aksio.ids import valid_uid

    if not valid_uid(uid):
        raise errors.Invalid("The user id is not a valid id.", code="invalid_uid")
    return db.collection(USERS).document(uid)


def user_col(db: Client, uid: str, name: str) -> CollectionReference:
    """``users/{uid}/{name}``."""
    col: CollectionReference = user_doc(db, uid).collection(name)
    return col


# -- snapshots and queries ------------------------------------------------------------------


def data_of(snap: Snapshot | None) -> dict[str, Any]:
    """The snapshot's fields, ``{}`` for a missing document."""
    if snap is None or not snap.exists:
        return {}
    return snap.to_dict() or {}


def read_snapshot(snap: Snapshot) -> dict[str, Any] | None:
    """The snapshot's fields, or None for a missing document."""
    return (snap.to_dict() or {}) if snap.exists else None


def read(ref: DocumentReference, tx: Transaction | None = None) -> dict[str, Any] | None:
    """The document's fields, or None when it does not exist."""
    snap = ref.get(transaction=tx) if tx is not None else ref.get()
    return (snap.to_dict() or {}) if snap.exists else None


def read_user(db: Client, uid: str, tx: Transaction | None = None) -> dict[str, Any]:
    """The fields of ``users/{uid}`` (``{}`` before the user's first change)."""
    return read(user_doc(db, uid), tx) or {}


def get_all(tx_or_db: Any, refs: list[DocumentReference]) -> dict[str, Snapshot]:
    """Snapshots of ``refs`` (in a transaction, or not) keyed by document path."""
    return {s.reference.path: s for s in tx_or_db.get_all(refs)}


def where(field: str, op: str, value: Any) -> Any:
    """A query filter (``query.where(filter=where("due", "<=", now))``)."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    return FieldFilter(field, op, value)


def count(query: Any) -> int:
    """The number of documents a query matches (an aggregation: 1 read per 1,000)."""
    result = query.count(alias="n").get()
    return int(result[0][0].value)


BATCH = 400  # writes per batch commit (Firestore allows 500)


def delete_all(db: Client, refs: Iterable[DocumentReference], batch_size: int = BATCH) -> int:
    """Delete ``refs`` in batches (not atomically: a retry continues); returns how many."""
    count, pending = 0, 0
    batch = db.batch()
    for ref in refs:
        batch.delete(ref)
        pending += 1
        count += 1
        if pending >= batch_size:
            batch.commit()
            batch, pending = db.batch(), 0
    if pending:
        batch.commit()
    return count


def delete_matching(db: Client, query: Any, batch_size: int = BATCH) -> int:
    """Delete every document ``query`` matches, a batch at a time, until none is left."""
    deleted = 0
    while True:
        snaps = list(query.select([]).limit(batch_size).stream())
        if not snaps:
            return deleted
        deleted += delete_all(db, (s.reference for s in snaps), batch_size)


def delete_collection(db: Client, col: Any, *, nested: tuple[str, ...] = (), batch_size: int = BATCH) -> int:
    """Delete every document of collection ``col`` (and first, under each, its ``nested``
    subcollections), ``batch_size`` at a time, until none is left; returns how many. Documents
    that do not exist but hold subcollections are listed too. Not atomic: a retry continues."""
    deleted = 0
    while True:
        refs = list(islice(col.list_documents(page_size=batch_size), batch_size))
        if not refs:
            return deleted
        for ref in refs:
            for name in nested:
                deleted += delete_collection(db, ref.collection(name), batch_size=batch_size)
        deleted += delete_all(db, refs, batch_size)


def delete_tree(db: Client, ref: DocumentReference, batch_size: int = BATCH) -> int:
    """Delete document ``ref`` and everything under it: every subcollection, recursively
    (one listing of subcollections per document, so for what is small or unknown; a domain
    deletes its large collections with :func:`delete_collection` first). Returns how many."""
    deleted = 0
    for col in ref.collections():
        while True:
            refs = list(islice(col.list_documents(page_size=batch_size), batch_size))
            if not refs:
                break
            for child in refs:
                deleted += delete_tree(db, child, batch_size) - 1
            deleted += delete_all(db, refs, batch_size)
    ref.delete()
    return deleted + 1


def walk_tree(
    ref: DocumentReference, *, skip: frozenset[str] = frozenset()
) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """Every document under ``ref`` (not ``ref`` itself), recursively, as ``(collection id,
    reference, fields)``; collections named in ``skip`` are not entered. Reads each collection
    as a stream (for an export: everything an account holds, whatever its collections)."""
    for col in ref.collections():
        if col.id in skip:
            continue
        seen = set()
        for snap in col.stream():
            seen.add(snap.id)
            yield col.id, snap.reference, snap.to_dict() or {}
            yield from walk_tree(snap.reference, skip=skip)
        for holder in col.list_documents():  # documents that do not exist but hold subcollections
            if holder.id not in seen:
                yield from walk_tree(holder, skip=skip)


def caused_by(exc: BaseException | None, kind: type[E]) -> E | None:
    """``exc`` or the first exception of type ``kind`` in its cause/context chain."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def already_exists(exc: BaseException) -> bool:
    """Whether ``exc`` is (or was caused by) Firestore's ALREADY_EXISTS."""
    from google.api_core import exceptions as gexc

    return caused_by(exc, gexc.AlreadyExists) is not None


# -- transactions ---------------------------------------------------------------------------


def run_transaction(db: Client, fn: Callable[[Transaction], T], *, what: str = "transaction") -> T:
    """Run ``fn(tx)`` in a read-write transaction, retried on contention up to
    :data:`MAX_ATTEMPTS` times. ``fn`` must do all its reads before its writes and may run
    more than once, so it must not have side effects outside the transaction.

    Contention past the budget raises :class:`aksio.errors.Contention`; a domain error
    raised by ``fn`` is raised as is (and nothing is written).
    """
    from google.api_core import exceptions as gexc
    from google.cloud import firestore

    wrapped = firestore.transactional(fn)
    try:
        result: T = wrapped(db.transaction(max_attempts=MAX_ATTEMPTS))
    except ValueError as exc:
        # The client wraps the last ABORTED of a commit in a ValueError once its attempts are
        # used up.
        if not isinstance(exc.__cause__, gexc.Aborted):
            raise
        _log.warning("%s gave up after %s attempts", what, MAX_ATTEMPTS)
        raise errors.Contention() from exc
    except gexc.Aborted as exc:
        # A read inside the transaction aborted (the client retries only commits).
        _log.warning("%s aborted during its reads", what)
        raise errors.Contention() from exc
    return result
