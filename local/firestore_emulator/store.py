"""Documents with their version history, per database, in memory and optionally mirrored to SQLite.

Every access happens under :attr:`Store.mutex`. Each committed version is kept for
:data:`HISTORY_SECONDS` so reads at a past ``read_time`` (and read-only transactions) see the data as it was.
The SQLite file, when given, holds the latest version of every document, so data survives a restart
(history does not).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .names import DbKey, collection_id, document_name, parent_collection, reference_key
from .values import RANK_REFERENCE, Document, FieldPath, Key, get_field, micros_from_timestamp, sort_key

if TYPE_CHECKING:
    from .indexes import Indexes

HISTORY_SECONDS = 3600
"""Reads at a ``read_time`` up to an hour old are served, as Firestore does without point-in-time recovery."""
SWEEP_SECONDS = 60
"""How often a commit also sweeps old versions and deleted documents out of memory."""


class Version:
    """One committed state of a document; ``doc`` is None for a deletion. Immutable once stored."""

    __slots__ = ("_keys", "doc", "time")

    def __init__(self, commit_time: int, doc: Any | None) -> None:
        self.time = commit_time
        self.doc: Any = doc
        self._keys: dict[FieldPath, Key | None] = {}

    def key(self, path: FieldPath) -> Key | None:
        """The sort key of the field at ``path`` (None when the field is absent); cached per version."""
        try:
            return self._keys[path]
        except KeyError:
            value = get_field(self.doc.fields, path)
            key = None if value is None else sort_key(value)
            self._keys[path] = key
            return key


class Entry:
    """A document path and its versions, oldest first."""

    __slots__ = ("name", "name_key", "path", "ref_key", "versions")

    def __init__(self, path: str, name: str) -> None:
        self.path = path
        self.name = name
        self.name_key = reference_key(name)
        self.ref_key = (RANK_REFERENCE, self.name_key)
        """The sort key of the document's name as a reference value (how ``__name__`` orders)."""
        self.versions: list[Version] = []

    def at(self, read_time: int | None) -> Version | None:
        """The version visible at ``read_time`` (latest when None); None if the document did not exist."""
        if read_time is None:
            version = self.versions[-1] if self.versions else None
        else:
            version = next((v for v in reversed(self.versions) if v.time <= read_time), None)
        return version if version is not None and version.doc is not None else None

    def prune(self, horizon: int) -> None:
        """Forget versions nobody can read any more (all but the last one at or before ``horizon``)."""
        versions = self.versions
        first_kept = 0
        for index, version in enumerate(versions):
            if version.time <= horizon:
                first_kept = index
        if first_kept:
            del versions[:first_kept]


@dataclass
class Stats:
    """Operations as Firestore bills them."""

    reads: int = 0
    writes: int = 0
    deletes: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"reads": self.reads, "writes": self.writes, "deletes": self.deletes}

    def clear(self) -> None:
        self.reads = self.writes = self.deletes = 0


@dataclass
class Database:
    key: DbKey
    entries: dict[str, Entry] = field(default_factory=dict)
    collections: dict[str, dict[str, Entry]] = field(default_factory=dict)
    """Collection path → its documents (by path)."""
    groups: dict[str, dict[str, Entry]] = field(default_factory=dict)
    """Collection id → every document in a collection with that id."""
    stats: Stats = field(default_factory=Stats)
    aborts: dict[str, int] = field(default_factory=dict)
    """Fault injection: path prefix → how many more transaction commits touching it answer ABORTED."""

    def take_abort(self, paths: list[str]) -> bool:
        """Whether a transaction committing ``paths`` is to be aborted by an injected fault (counted)."""
        for prefix, remaining in self.aborts.items():
            if remaining > 0 and any(p == prefix or p.startswith(prefix.rstrip("/") + "/") for p in paths):
                self.aborts[prefix] = remaining - 1
                return True
        return False

    def entry(self, path: str) -> Entry:
        found = self.entries.get(path)
        if found is None:
            found = Entry(path, document_name(self.key, path))
            self.entries[path] = found
            self.collections.setdefault(parent_collection(path), {})[path] = found
            self.groups.setdefault(collection_id(path), {})[path] = found
        return found

    def get(self, path: str, read_time: int | None = None) -> Version | None:
        found = self.entries.get(path)
        return None if found is None else found.at(read_time)

    def forget(self, path: str) -> None:
        """Drop a path whose only remaining version is a deletion nobody can read before."""
        self.entries.pop(path, None)
        parent = parent_collection(path)
        siblings = self.collections.get(parent)
        if siblings is not None:
            siblings.pop(path, None)
            if not siblings:
                del self.collections[parent]
        group = self.groups.get(collection_id(path))
        if group is not None:
            group.pop(path, None)
            if not group:
                del self.groups[collection_id(path)]

    def descendants(self, parent: str) -> Iterator[Entry]:
        """Every document below the document ``parent`` ("" for the root), at any depth."""
        if not parent:
            yield from self.entries.values()
            return
        prefix = parent + "/"
        for path, found in self.entries.items():
            if path.startswith(prefix):
                yield found


class Sqlite:
    """The latest version of every document, one row each, in a SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS documents ("
            " project TEXT NOT NULL, database TEXT NOT NULL, path TEXT NOT NULL, document BLOB NOT NULL,"
            " PRIMARY KEY (project, database, path))"
        )

    def load(self) -> Iterator[tuple[DbKey, str, bytes]]:
        for project, database, path, blob in self._db.execute(
            "SELECT project, database, path, document FROM documents"
        ):
            yield (project, database), path, blob

    def save(self, db: DbKey, changes: list[tuple[str, Any | None]]) -> None:
        upserts = [(db[0], db[1], path, doc.SerializeToString()) for path, doc in changes if doc is not None]
        deletes = [(db[0], db[1], path) for path, doc in changes if doc is None]
        self._db.execute("BEGIN")
        if upserts:
            self._db.executemany("INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?)", upserts)
        if deletes:
            self._db.executemany("DELETE FROM documents WHERE project = ? AND database = ? AND path = ?", deletes)
        self._db.execute("COMMIT")

    def clear(self, db: DbKey) -> None:
        self._db.execute("DELETE FROM documents WHERE project = ? AND database = ?", db)

    def close(self) -> None:
        self._db.close()


ChangeListener = Callable[[DbKey, int, set[str]], None]
"""Called (under the mutex) after each commit with the database, commit time and changed paths."""


class Store:
    """All databases of the emulator. Hold :attr:`mutex` (or wait on :attr:`cond`) around every access."""

    def __init__(self, data: Path | None = None) -> None:
        self.mutex = threading.RLock()
        self.cond = threading.Condition(self.mutex)
        self.databases: dict[DbKey, Database] = {}
        self.listeners: list[ChangeListener] = []
        self.indexes: Indexes | None = None  # when set, queries no index can serve are refused (indexes.py)
        self._last_time = 0
        self._last_sweep = 0
        self._sqlite = Sqlite(data) if data is not None else None
        if self._sqlite is not None:
            self._load(self._sqlite)

    def _load(self, sqlite: Sqlite) -> None:
        for db_key, path, blob in sqlite.load():
            doc = Document.FromString(blob)
            update_time = micros_from_timestamp(doc.update_time)
            self.database(db_key).entry(path).versions.append(Version(update_time, doc))
            self._last_time = max(self._last_time, update_time)

    def close(self) -> None:
        if self._sqlite is not None:
            with self.mutex:
                self._sqlite.close()

    def now(self) -> int:
        """The current time in microseconds, strictly greater than any time handed out before."""
        current = max(time.time_ns() // 1000, self._last_time + 1)
        self._last_time = current
        return current

    def database(self, key: DbKey) -> Database:
        found = self.databases.get(key)
        if found is None:
            found = self.databases[key] = Database(key)
        return found

    def commit(self, db: Database, commit_time: int, changes: list[tuple[str, Any | None]]) -> None:
        """Store new versions (a Document, or None for a deletion) of documents at ``commit_time``."""
        if not changes:
            return
        horizon = commit_time - HISTORY_SECONDS * 1_000_000
        for path, doc in changes:
            entry = db.entry(path)
            entry.versions.append(Version(commit_time, doc))
            entry.prune(horizon)
        if commit_time - self._last_sweep > SWEEP_SECONDS * 1_000_000:
            self._sweep(horizon)
            self._last_sweep = commit_time
        if self._sqlite is not None:
            self._sqlite.save(db.key, changes)
        changed = {path for path, _ in changes}
        for listener in self.listeners:
            listener(db.key, commit_time, changed)

    def _sweep(self, horizon: int) -> None:
        """Prune every history and forget documents deleted before anyone can read them."""
        for db in self.databases.values():
            for path, entry in list(db.entries.items()):
                entry.prune(horizon)
                if entry.versions[-1].doc is None and entry.versions[0].time <= horizon and len(entry.versions) == 1:
                    db.forget(path)

    def reset(self, key: DbKey) -> set[str]:
        """Delete every document of a database, history included; returns the paths that existed."""
        db = self.databases.pop(key, None)
        if self._sqlite is not None:
            self._sqlite.clear(key)
        if db is None:
            return set()
        existed = {path for path, entry in db.entries.items() if entry.at(None) is not None}
        fresh = self.database(key)
        fresh.stats = db.stats
        return existed

    def notify(self, key: DbKey, changed: set[str]) -> None:
        """Tell listeners that ``changed`` paths changed outside a commit (a reset)."""
        at = self.now()
        for listener in self.listeners:
            listener(key, at, changed)
