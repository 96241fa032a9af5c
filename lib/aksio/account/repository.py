"""The account package's repository: the only code that reads and writes

- ``users/{uid}/activity/{id}``: the activity log (``expireAt`` for a Firestore TTL policy:
  entries expire a year after they were written);
- ``deletedAccounts/{key}``: the tombstone of an account being (or having been) deleted, and
  the state of its deletion job. ``key`` is a hash of the uid, so the record that outlives
  the account names nobody; ``expireAt`` removes it once no work in flight can arrive;
- ``users/{uid}/exports/{id}``: export jobs;
- what remains of ``users/{uid}`` after every domain deleted its own collections.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from aksio import firestore as fs
from aksio import paging

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

ACTIVITY, TOMBSTONES, EXPORTS, IMPORTS = "activity", "deletedAccounts", "exports", "imports"


def tombstone_key(uid: str) -> str:
    return hashlib.sha256(f"aksio-account/{uid}".encode()).hexdigest()


def tombstone_ref(db: Client, uid: str) -> Any:
    return db.collection(TOMBSTONES).document(tombstone_key(uid))


def activity_col(db: Client, uid: str) -> Any:
    return fs.user_col(db, uid, ACTIVITY)


def exports_col(db: Client, uid: str) -> Any:
    return fs.user_col(db, uid, EXPORTS)


# -- tombstones ----------------------------------------------------------------------------


def read_tombstone(db: Client, uid: str, tx: Any = None) -> dict[str, Any] | None:
    return fs.read(tombstone_ref(db, uid), tx)


def create_tombstone_in(tx: Any, db: Client, uid: str, doc: dict[str, Any]) -> None:
    tx.create(tombstone_ref(db, uid), doc)


def update_tombstone(db: Client, uid: str, changes: dict[str, Any]) -> None:
    tombstone_ref(db, uid).update(changes)


# -- activity ------------------------------------------------------------------------------


def add_activity_in(tx: Any, db: Client, uid: str, entry_id: str, doc: dict[str, Any]) -> None:
    """Write the entry (a retry of the same entry id writes the same document again)."""
    tx.set(activity_col(db, uid).document(entry_id), doc)


def add_activity(db: Client, uid: str, entry_id: str, doc: dict[str, Any]) -> None:
    activity_col(db, uid).document(entry_id).set(doc)


def page_activity(db: Client, uid: str, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    return paging.page(paging.newest_first(activity_col(db, uid), "at"), "at", cursor, limit)


# -- exports -------------------------------------------------------------------------------


def export_ref(db: Client, uid: str, export_id: str) -> Any:
    return exports_col(db, uid).document(export_id)


def read_export(db: Client, uid: str, export_id: str, tx: Any = None) -> dict[str, Any] | None:
    return fs.read(export_ref(db, uid, export_id), tx)


def running_exports_in(tx: Any, db: Client, uid: str) -> list[tuple[str, dict[str, Any]]]:
    query = exports_col(db, uid).where(filter=fs.where("status", "in", ["queued", "running"]))
    return [(s.id, fs.data_of(s)) for s in query.stream(transaction=tx)]


def create_export_in(tx: Any, db: Client, uid: str, export_id: str, doc: dict[str, Any]) -> None:
    tx.create(export_ref(db, uid, export_id), doc)


def update_export(db: Client, uid: str, export_id: str, changes: dict[str, Any]) -> None:
    export_ref(db, uid, export_id).update(fs.stored(changes))


def page_exports(db: Client, uid: str, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    return paging.page(paging.newest_first(exports_col(db, uid), "createdAt"), "createdAt", cursor, limit)


# -- the rest of users/{uid} ------------------------------------------------------------------


def delete_user_tree(db: Client, uid: str) -> int:
    """Delete ``users/{uid}`` and everything still under it (each domain deleted its own
    large collections first), recursively, in batches."""
    return fs.delete_tree(db, fs.user_doc(db, uid))


def delete_account_collections(db: Client, uid: str) -> int:
    return sum(fs.delete_collection(db, fs.user_col(db, uid, name)) for name in (ACTIVITY, EXPORTS, IMPORTS))


def walk_user(db: Client, uid: str, skip: frozenset[str]) -> tuple[Any, Any]:
    """``users/{uid}`` (its path, its fields or None) and every document under it, for the
    export (:func:`aksio.firestore.walk_tree`)."""
    root = fs.user_doc(db, uid)
    return (root.path, fs.read(root)), fs.walk_tree(root, skip=skip)


# -- imports -------------------------------------------------------------------------------


def import_ref(db: Client, uid: str, import_id: str) -> Any:
    return fs.user_col(db, uid, IMPORTS).document(import_id)


def read_import(db: Client, uid: str, import_id: str, tx: Any = None) -> dict[str, Any] | None:
    return fs.read(import_ref(db, uid, import_id), tx)


def create_import(db: Client, uid: str, import_id: str, doc: dict[str, Any]) -> None:
    import_ref(db, uid, import_id).create(doc)


def update_import(db: Client, uid: str, import_id: str, changes: dict[str, Any], tx: Any = None) -> None:
    if tx is not None:
        tx.update(import_ref(db, uid, import_id), fs.stored(changes))
    else:
        import_ref(db, uid, import_id).update(fs.stored(changes))
