"""The account activity log: security-relevant events of one user, newest first, each kept a
year (``expireAt``, for a Firestore TTL policy). Entries are written by the domain where the
event happens (in its transaction when it has one, so an event is logged exactly when it
took effect), through :func:`record_in` / :func:`record`; an entry id derived from what
happened makes a retried write land on the same entry.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aksio import firestore as fs
from aksio.account import repository as repo
from aksio.wire import compact, iso

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

Json = dict[str, Any]
KEEP = timedelta(days=365)
KINDS = (
    "export_requested",
    "deletion_requested",
    "device_added",
    "device_removed",
    "plan_changed",
    "import_done",
)


def entry_id(kind: str, key: str) -> str:
    """The id of the entry for ``kind`` of the thing ``key`` names (the same event, the same id)."""
    return kind[:20] + "-" + hashlib.sha256(f"{kind}/{key}".encode()).hexdigest()[:24]


def entry(kind: str, at: datetime, details: dict[str, Any] | None = None) -> Json:
    if kind not in KINDS:
        raise ValueError(f"unknown activity kind {kind!r}")
    return compact({"kind": kind, "at": at, "details": details or None, "expireAt": at + KEEP})


def record_in(tx: Any, db: Client, uid: str, kind: str, key: str, *, details: dict[str, Any] | None = None) -> None:
    """Inside transaction ``tx`` (a write only: after the caller's reads)."""
    repo.add_activity_in(tx, db, uid, entry_id(kind, key), entry(kind, fs.utcnow(), details))


def record(db: Client, uid: str, kind: str, key: str, *, details: dict[str, Any] | None = None) -> None:
    repo.add_activity(db, uid, entry_id(kind, key), entry(kind, fs.utcnow(), details))


def view(entry_id_: str, data: dict[str, Any]) -> Json:
    return compact(
        {
            "id": entry_id_,
            "kind": data.get("kind", ""),
            "at": iso(data.get("at")),
            "details": data.get("details"),
            "expiresAt": iso(data.get("expireAt")),
        }
    )


def page(db: Client, uid: str, cursor: str | None, limit: int) -> Json:
    snaps, next_cursor = repo.page_activity(db, uid, cursor, limit)
    return compact({"activity": [view(s.id, fs.data_of(s)) for s in snaps], "nextCursor": next_cursor})
