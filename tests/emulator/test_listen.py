"""Listen (on_snapshot): the initial snapshot, then adds, changes and removals as they are committed."""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.watch import ChangeType


class Snapshots:
    """Collects what on_snapshot delivers; ``next()`` waits for the next delivery."""

    def __init__(self) -> None:
        self.deliveries: queue.Queue[tuple[list[Any], list[Any]]] = queue.Queue()

    def __call__(self, docs: list[Any], changes: list[Any], read_time: Any) -> None:
        self.deliveries.put((docs, changes))

    def next(self) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        docs, changes = self.deliveries.get(timeout=10)
        return (
            {d.id: d.to_dict() for d in docs},
            [(c.type.name, c.document.id) for c in changes],
        )


def test_document_listener_sees_changes_and_deletion(db: firestore.Client) -> None:
    ref = db.document("watch/doc")
    ref.set({"v": 1})
    seen = Snapshots()
    watch = ref.on_snapshot(seen)
    try:
        assert seen.next() == ({"doc": {"v": 1}}, [("ADDED", "doc")])
        ref.update({"v": 2})
        assert seen.next() == ({"doc": {"v": 2}}, [("MODIFIED", "doc")])
        ref.delete()
        assert seen.next() == ({}, [("REMOVED", "doc")])
    finally:
        watch.unsubscribe()


def test_query_listener_sees_adds_changes_and_removes_in_order(db: firestore.Client) -> None:
    coll = db.collection("watched")
    coll.document("b").set({"kind": "x", "rank": 2})
    coll.document("other").set({"kind": "y", "rank": 0})
    seen = Snapshots()
    watch = coll.where(filter=FieldFilter("kind", "==", "x")).order_by("rank").limit(2).on_snapshot(seen)
    try:
        assert seen.next() == ({"b": {"kind": "x", "rank": 2}}, [("ADDED", "b")])
        coll.document("a").set({"kind": "x", "rank": 1})
        docs, changes = seen.next()
        assert list(docs) == ["a", "b"]
        assert changes == [("ADDED", "a")]
        coll.document("c").set({"kind": "x", "rank": 0})  # enters the top 2, pushes b out
        docs, changes = seen.next()
        assert list(docs) == ["c", "a"]
        assert sorted(changes) == [("ADDED", "c"), ("REMOVED", "b")]
        coll.document("a").update({"rank": 5})  # a falls out of the top 2, b comes back
        docs, changes = seen.next()
        assert list(docs) == ["c", "b"]
        assert sorted(changes) == [("ADDED", "b"), ("REMOVED", "a")]
        coll.document("c").update({"kind": "y"})  # no longer matches
        docs, _ = seen.next()
        assert list(docs) == ["b", "a"]
        coll.document("other").set({"kind": "y", "rank": 9})  # outside the query: nothing delivered
        coll.document("b").update({"rank": 3})
        docs, changes = seen.next()
        assert docs["b"] == {"kind": "x", "rank": 3}
        assert changes == [("MODIFIED", "b")]
    finally:
        watch.unsubscribe()


def test_collection_listener_sees_a_reset(project: str, db: firestore.Client, http: Callable[..., Any]) -> None:
    coll = db.collection("to-reset")
    coll.document("one").set({"v": 1})
    seen = Snapshots()
    watch = coll.on_snapshot(seen)
    try:
        assert seen.next()[0] == {"one": {"v": 1}}
        http("DELETE", f"/emulator/v1/projects/{project}/databases/(default)/documents")
        assert seen.next() == ({}, [(ChangeType.REMOVED.name, "one")])
    finally:
        watch.unsubscribe()
