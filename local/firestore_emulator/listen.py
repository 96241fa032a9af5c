"""The Listen stream: targets (documents or a query), their initial snapshot and every later change.

Each stream keeps, per target, the documents it last sent (name → update time). A commit on the stream's
database wakes the stream; it re-evaluates the targets the commit may touch, at the current time, and sends the
differences (DocumentChange, DocumentDelete, DocumentRemove) followed by a global NO_CHANGE carrying the read time,
which is when the client delivers a snapshot. A new target gets ADD, its documents, CURRENT and NO_CHANGE.
Resuming (a resume token or read time on the target) resends the whole target after a RESET.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from google.cloud.firestore_v1.types import firestore as fs
from google.cloud.firestore_v1.types import write as write_types

from .errors import FirestoreError, invalid
from .names import DbKey, document_name, parse_database, split_document, split_parent
from .query import Query, compile_query
from .store import Database, Store
from .values import micros_from_timestamp, timestamp_from_micros

ListenResponse = fs.ListenResponse.pb()
ChangeType = fs.TargetChange.TargetChangeType
DocumentChange = write_types.DocumentChange.pb()


@dataclass
class Target:
    id: int
    query: Query | None = None
    paths: list[str] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)
    """Document path → update time (micros) of what the client holds for this target."""
    once: bool = False

    def affected_by(self, db: Database, changed: set[str]) -> bool:
        if self.query is None:
            return any(p in changed for p in self.paths)
        return any((entry := db.entries.get(p)) is None or self.query.in_scope(entry) for p in changed)

    def current(self, db: Database) -> dict[str, Any]:
        """Path → the Document to send, for what the target matches now."""
        if self.query is None:
            result = {}
            for path in self.paths:
                version = db.get(path)
                if version is not None:
                    result[path] = version.doc
            return result
        rows, _ = self.query.run(db, None)
        return {row[0].path: self.query.render(row) for row in rows}


def _token(micros: int) -> bytes:
    return micros.to_bytes(8, "big")


class ListenHub:
    """Every open Listen stream, woken by the store after each commit."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.streams: dict[DbKey, set[Callable[[set[str]], None]]] = {}
        store.listeners.append(self._on_commit)

    def _on_commit(self, db: DbKey, commit_time: int, changed: set[str]) -> None:
        for notify in self.streams.get(db, ()):
            notify(changed)

    async def serve(self, requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Answer one Listen stream until the client ends it."""
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()  # ("request", msg) or ("changed", paths)

        def notify(changed: set[str]) -> None:
            loop.call_soon_threadsafe(inbox.put_nowait, ("changed", changed))

        async def read() -> None:
            # The client closing its side ends nothing: changes keep flowing until it cancels the call (which may
            # also end this loop with an error, of no interest here).
            with contextlib.suppress(Exception):
                async for request in requests:
                    inbox.put_nowait(("request", request))

        stream = _Stream(self, notify)
        reader = asyncio.create_task(read())
        try:
            while True:
                items = [await inbox.get()]
                while not inbox.empty():
                    items.append(inbox.get_nowait())
                changed: set[str] = set()
                for kind, payload in items:
                    if kind == "changed":
                        changed |= payload
                        continue
                    for response in stream.refresh(changed):
                        yield response
                    changed = set()
                    for response in stream.handle_request(payload):
                        yield response
                for response in stream.refresh(changed):
                    yield response
        finally:
            reader.cancel()
            stream.close()


class _Stream:
    def __init__(self, hub: ListenHub, notify: Callable[[set[str]], None]) -> None:
        self.hub = hub
        self.notify = notify
        self.db_key: DbKey | None = None
        self.targets: dict[int, Target] = {}
        self._next_id = 1

    def close(self) -> None:
        with self.hub.store.mutex:
            if self.db_key is not None:
                self.hub.streams.get(self.db_key, set()).discard(self.notify)

    def handle_request(self, request: Any) -> list[Any]:
        db_key = parse_database(request.database)
        if self.db_key is None:
            self.db_key = db_key
            with self.hub.store.mutex:
                self.hub.streams.setdefault(db_key, set()).add(self.notify)
        elif db_key != self.db_key:
            raise invalid("All requests of a Listen stream must name the same database.")
        kind = request.WhichOneof("target_change")
        if kind == "add_target":
            return self._add(request.add_target)
        if kind == "remove_target" and self.targets.pop(request.remove_target, None) is not None:
            return [_target_change(ChangeType.REMOVE, [request.remove_target])]
        return []

    def _add(self, spec: Any) -> list[Any]:
        target_id = spec.target_id or self._next_id
        self._next_id = max(self._next_id, target_id) + 1
        if target_id in self.targets:
            return [_removed(target_id, invalid(f"Target id {target_id} is already in use."))]
        try:
            target = self._compile(target_id, spec)
        except FirestoreError as error:
            return [_removed(target_id, error)]
        store = self.hub.store
        assert self.db_key is not None
        with store.mutex:
            db = store.database(self.db_key)
            documents = target.current(db)
            now = store.now()
            db.stats.reads += max(1, len(documents))
        self.targets[target_id] = target
        responses = [_target_change(ChangeType.ADD, [target_id])]
        if spec.WhichOneof("resume_type") is not None:
            responses.append(_target_change(ChangeType.RESET, [target_id]))
        for path, doc in sorted(documents.items()):
            target.sent[path] = micros_from_timestamp(doc.update_time)
            responses.append(ListenResponse(document_change=DocumentChange(document=doc, target_ids=[target_id])))
        responses.append(_target_change(ChangeType.CURRENT, [target_id], now))
        responses.append(_target_change(ChangeType.NO_CHANGE, [], now))
        if spec.once:
            del self.targets[target_id]
            responses.append(_target_change(ChangeType.REMOVE, [target_id]))
        return responses

    def _compile(self, target_id: int, spec: Any) -> Target:
        assert self.db_key is not None
        kind = spec.WhichOneof("target_type")
        if kind == "documents":
            paths = [split_document(name, self.db_key)[1] for name in spec.documents.documents]
            return Target(target_id, paths=paths, once=spec.once)
        if kind == "query":
            _, parent = split_parent(spec.query.parent, self.db_key)
            structured = spec.query.structured_query
            query = compile_query(parent, structured)
            indexes = self.hub.store.indexes
            if indexes is not None:
                indexes.check(self.db_key, query.collection_id, query.all_descendants, structured)
            return Target(target_id, query=query, once=spec.once)
        raise invalid("A target needs documents or a query.")

    def refresh(self, changed: set[str]) -> list[Any]:
        """The changes of every target that ``changed`` paths may affect, then NO_CHANGE (if any)."""
        if self.db_key is None or not self.targets or not changed:
            return []
        store = self.hub.store
        responses: list[Any] = []
        with store.mutex:
            db = store.database(self.db_key)
            now = store.now()
            for target in self.targets.values():
                if target.affected_by(db, changed):
                    responses.extend(self._diff(db, target))
        if responses:
            responses.append(_target_change(ChangeType.NO_CHANGE, [], now))
        return responses

    def _diff(self, db: Database, target: Target) -> list[Any]:
        current = target.current(db)
        responses = []
        for path in sorted(target.sent.keys() - current.keys()):
            del target.sent[path]
            name = document_name(db.key, path)
            if db.get(path) is None:
                responses.append(ListenResponse(document_delete={"document": name, "removed_target_ids": [target.id]}))
            else:
                responses.append(ListenResponse(document_remove={"document": name, "removed_target_ids": [target.id]}))
        for path, doc in sorted(current.items()):
            update_time = micros_from_timestamp(doc.update_time)
            if target.sent.get(path) != update_time:
                target.sent[path] = update_time
                responses.append(ListenResponse(document_change=DocumentChange(document=doc, target_ids=[target.id])))
        db.stats.reads += sum(1 for r in responses if r.HasField("document_change"))
        return responses


def _target_change(kind: int, target_ids: list[int], at: int | None = None) -> Any:
    response = ListenResponse()
    change = response.target_change
    change.target_change_type = kind
    change.target_ids.extend(target_ids)
    if at is not None:
        change.read_time.CopyFrom(timestamp_from_micros(at))
        change.resume_token = _token(at)
    return response


def _removed(target_id: int, error: FirestoreError) -> Any:
    response = _target_change(ChangeType.REMOVE, [target_id])
    response.target_change.cause.code = error.code.value[0]
    response.target_change.cause.message = error.message
    return response
