"""Index enforcement (``--indexes``): each of production's rules with a query that needs an index (refused without
it, served with it) and one that does not; the error as Firestore words it; the project's own index file.

Every test here runs against an emulator that enforces the index spec the test sets (``emulator.set_indexes``).
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import firestore
from google.cloud.firestore_admin_v1.types import Index
from google.cloud.firestore_v1.base_query import FieldFilter, Or
from google.cloud.firestore_v1.base_vector_query import DistanceMeasure
from google.cloud.firestore_v1.vector import Vector

from firestore_emulator import Emulator, start
from firestore_emulator.indexes import IndexFileError

ROOT = Path(__file__).resolve().parents[2]
INDEX_FILE = ROOT / "terraform" / "firestore.indexes.json"
NO_INDEXES: dict[str, Any] = {"indexes": [], "fieldOverrides": []}
Query = Callable[[firestore.Client], Any]
DESCENDING = firestore.Query.DESCENDING
COSINE = DistanceMeasure.COSINE


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """This module's own emulator (it overrides the shared one): the tests change what it enforces."""
    running = start("127.0.0.1", 0, lock_timeout=2.0, indexes=NO_INDEXES)
    yield running
    running.stop()


def where(path: str, op: str, value: Any) -> FieldFilter:
    return FieldFilter(path, op, value)


def composite(group: str, *fields: tuple[str, str], scope: str = "COLLECTION") -> dict[str, Any]:
    """An ``indexes`` entry; a field's mode is ASCENDING, DESCENDING, CONTAINS or ``VECTOR:<dimension>``."""
    specs: list[dict[str, Any]] = []
    for path, mode in fields:
        if mode == "CONTAINS":
            specs.append({"fieldPath": path, "arrayConfig": "CONTAINS"})
        elif mode.startswith("VECTOR:"):
            specs.append({"fieldPath": path, "vectorConfig": {"dimension": int(mode[7:]), "flat": {}}})
        else:
            specs.append({"fieldPath": path, "order": mode})
    return {"collectionGroup": group, "queryScope": scope, "fields": specs}


def spec(*indexes: dict[str, Any], overrides: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"indexes": list(indexes), "fieldOverrides": overrides or []}


def run(db: firestore.Client, query: Query) -> Any:
    result = query(db)
    return result.get() if hasattr(result, "get") else result


def refused(db: firestore.Client, query: Query) -> str:
    with pytest.raises(exceptions.FailedPrecondition) as caught:
        run(db, query)
    return str(caught.value.message)


@dataclass
class Rule:
    name: str
    source: str  # the documentation the rule comes from (README.md cites it in full)
    needs: Query  # a query that needs the index below
    index: dict[str, Any]  # the index spec that serves ``needs``
    served: Query  # a query of the same shape that needs no declared index
    base: dict[str, Any] = field(default_factory=lambda: NO_INDEXES)  # what is declared besides


def cards(db: firestore.Client) -> Any:
    return db.collection("users").document("u1").collection("cards")


RULES = [
    Rule(
        "equality-only: single-field indexes merged; + order: composite indexes merged",
        "index-overview#index_merging",
        needs=lambda db: cards(db).where(filter=where("a", "==", 1)).where(filter=where("b", "==", 2)).order_by("c"),
        index=spec(
            composite("cards", ("a", "ASCENDING"), ("c", "ASCENDING")),
            composite("cards", ("b", "DESCENDING"), ("c", "ASCENDING")),
        ),
        served=lambda db: cards(db).where(filter=where("a", "==", 1)).where(filter=where("b", "in", [2, 3])),
    ),
    Rule(
        "equality + range on another field needs a composite",
        "index-overview#composite_indexes",
        needs=lambda db: cards(db).where(filter=where("queue", "==", "review")).where(filter=where("due", "<=", 5)),
        index=spec(composite("cards", ("queue", "ASCENDING"), ("due", "ASCENDING"))),
        served=lambda db: cards(db).where(filter=where("due", "<=", 5)),
    ),
    Rule(
        "equality + order on another field needs a composite",
        "index-overview#composite_indexes",
        needs=lambda db: cards(db).where(filter=where("deckId", "==", "d")).order_by("createdAt"),
        index=spec(composite("cards", ("deckId", "ASCENDING"), ("createdAt", "ASCENDING"))),
        served=lambda db: cards(db).order_by("createdAt", direction=DESCENDING),
    ),
    Rule(
        "range/inequality on several fields needs a composite (equality fields first, then the ranges)",
        "multiple-range-fields#indexing_considerations",
        needs=lambda db: cards(db).where(filter=where("a", ">", 1)).where(filter=where("b", "!=", 2)),
        index=spec(composite("cards", ("a", "ASCENDING"), ("b", "ASCENDING"))),
        served=lambda db: cards(db).where(filter=where("a", ">", 1)).where(filter=where("a", "<", 9)),
    ),
    Rule(
        "array-contains with an order needs a composite (CONTAINS + order)",
        "index-overview#array-contains",
        needs=lambda db: cards(db).where(filter=where("tags", "array_contains", "x")).order_by("due"),
        index=spec(composite("cards", ("tags", "CONTAINS"), ("due", "ASCENDING"))),
        served=lambda db: (
            cards(db).where(filter=where("tags", "array_contains_any", ["x"])).where(filter=where("a", "==", 1))
        ),
    ),
    Rule(
        "collection group: no automatic single-field index of that scope",
        "index-overview#automatic_indexing + indexing#exemptions",
        needs=lambda db: db.collection_group("notifications").where(filter=where("pushPending", "==", True)),
        index=spec(
            overrides=[
                {
                    "collectionGroup": "notifications",
                    "fieldPath": "pushPending",
                    "indexes": [{"order": "ASCENDING", "queryScope": "COLLECTION_GROUP"}],
                }
            ]
        ),
        served=lambda db: db.collection_group("notifications").order_by("__name__"),
    ),
    Rule(
        "collection group: a composite index of collection scope does not serve it",
        "index-overview#query_scope",
        needs=lambda db: db.collection_group("cards").where(filter=where("deckId", "==", "d")).order_by("createdAt"),
        index=spec(composite("cards", ("deckId", "ASCENDING"), ("createdAt", "ASCENDING"), scope="COLLECTION_GROUP")),
        served=lambda db: cards(db).where(filter=where("deckId", "==", "d")).order_by("createdAt"),
        base=spec(composite("cards", ("deckId", "ASCENDING"), ("createdAt", "ASCENDING"))),
    ),
    Rule(
        "single-field exemption: a field without indexes cannot be filtered (a map's subfields inherit)",
        "index-overview#index_exemptions",
        needs=lambda db: cards(db).where(filter=where("source.key", "==", "k")),
        index=spec(
            overrides=[
                {
                    "collectionGroup": "cards",
                    "fieldPath": "source.key",
                    "indexes": [{"order": "ASCENDING", "queryScope": "COLLECTION"}],
                }
            ]
        ),
        served=lambda db: cards(db).where(filter=where("other", "==", "k")),
        base=spec(overrides=[{"collectionGroup": "cards", "fieldPath": "source", "indexes": []}]),
    ),
    Rule(
        "single-field exemption listing only ASCENDING: a descending order is refused",
        "index-overview#index_exemptions",
        needs=lambda db: cards(db).order_by("pushPending", direction=DESCENDING),
        index=spec(
            overrides=[
                {
                    "collectionGroup": "cards",
                    "fieldPath": "pushPending",
                    "indexes": [
                        {"order": "ASCENDING", "queryScope": "COLLECTION"},
                        {"order": "DESCENDING", "queryScope": "COLLECTION"},
                    ],
                }
            ]
        ),
        served=lambda db: cards(db).order_by("pushPending"),
        base=spec(
            overrides=[
                {
                    "collectionGroup": "cards",
                    "fieldPath": "pushPending",
                    "indexes": [{"order": "ASCENDING", "queryScope": "COLLECTION"}],
                }
            ]
        ),
    ),
    Rule(
        "__name__ is implicitly ordered like the index's last field",
        "indexing#index_definition (__name__ added in the last field's direction)",
        needs=lambda db: (
            cards(db)
            .where(filter=where("deckId", "==", "d"))
            .order_by("due", direction=DESCENDING)
            .order_by("__name__")
        ),
        index=spec(composite("cards", ("deckId", "ASCENDING"), ("due", "DESCENDING"), ("__name__", "ASCENDING"))),
        served=lambda db: cards(db).where(filter=where("deckId", "==", "d")).order_by("due", direction=DESCENDING),
        base=spec(composite("cards", ("deckId", "ASCENDING"), ("due", "DESCENDING"))),
    ),
    Rule(
        "find_nearest needs a vector index of the query vector's dimension",
        "vector-search#create_and_manage_vector_indexes",
        needs=lambda db: cards(db).find_nearest("embedding", Vector([1.0, 0.0, 0.0]), distance_measure=COSINE, limit=2),
        index=spec(composite("cards", ("embedding", "VECTOR:3"))),
        served=lambda db: cards(db).where(filter=where("embedding", "==", Vector([1.0, 0.0, 0.0]))),
        base=spec(composite("cards", ("embedding", "VECTOR:4"))),
    ),
    Rule(
        "find_nearest with a pre-filter needs the filter fields before the vector field",
        "vector-search#pre-filter",
        needs=lambda db: (
            cards(db)
            .where(filter=where("deckId", "==", "d"))
            .find_nearest("embedding", Vector([1.0, 0.0, 0.0]), distance_measure=COSINE, limit=2)
        ),
        index=spec(composite("cards", ("deckId", "ASCENDING"), ("embedding", "VECTOR:3"))),
        served=lambda db: cards(db).find_nearest(
            "embedding", Vector([1.0, 0.0, 0.0]), distance_measure=COSINE, limit=2
        ),
        base=spec(composite("cards", ("embedding", "VECTOR:3"))),
    ),
    Rule(
        "count() follows its query",
        "aggregation-queries (aggregations rely on the index configuration of their query)",
        needs=lambda db: (
            cards(db).where(filter=where("queue", "==", "new")).where(filter=where("due", "<=", 5)).count()
        ),
        index=spec(composite("cards", ("queue", "ASCENDING"), ("due", "ASCENDING"))),
        served=lambda db: (
            cards(db).where(filter=where("queue", "==", "new")).where(filter=where("deckId", "==", "d")).count()
        ),
    ),
    Rule(
        "OR queries: each disjunct must be served",
        "index-overview (OR queries are served disjunct by disjunct, as index merging)",
        needs=lambda db: cards(db).where(filter=Or([where("a", "==", 1), where("b", "==", 2)])).order_by("c"),
        index=spec(
            composite("cards", ("a", "ASCENDING"), ("c", "ASCENDING")),
            composite("cards", ("b", "ASCENDING"), ("c", "ASCENDING")),
        ),
        served=lambda db: cards(db).where(filter=Or([where("a", "==", 1), where("b", "==", 2)])),
    ),
]


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "indexes": base["indexes"] + extra["indexes"],
        "fieldOverrides": extra["fieldOverrides"]
        + [
            o
            for o in base["fieldOverrides"]
            if (o["collectionGroup"], o["fieldPath"])
            not in {(e["collectionGroup"], e["fieldPath"]) for e in extra["fieldOverrides"]}
        ],
    }


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_rule(rule: Rule, emulator: Emulator, db: firestore.Client) -> None:
    emulator.set_indexes(rule.base)
    message = refused(db, rule.needs)
    assert message.startswith(("The query requires", "Missing vector index configuration")), message
    run(db, rule.served)  # needs nothing declared beyond the base
    emulator.set_indexes(merged(rule.base, rule.index))
    run(db, rule.needs)
    run(db, rule.served)
    print(f"\n{rule.name}: refused without the index: {message[:160]}")


def test_merging_needs_every_equality_field_covered(emulator: Emulator, db: firestore.Client) -> None:
    emulator.set_indexes(spec(composite("cards", ("a", "ASCENDING"), ("c", "ASCENDING"))))
    refused(db, lambda db: cards(db).where(filter=where("a", "==", 1)).where(filter=where("b", "==", 2)).order_by("c"))
    emulator.set_indexes(spec(composite("cards", ("a", "ASCENDING"), ("b", "ASCENDING"), ("c", "ASCENDING"))))
    run(db, lambda db: cards(db).where(filter=where("a", "==", 1)).where(filter=where("b", "==", 2)).order_by("c"))


def test_served_queries_return_their_documents(emulator: Emulator, db: firestore.Client) -> None:
    emulator.set_indexes(spec(composite("cards", ("queue", "ASCENDING"), ("due", "ASCENDING"))))
    for i, queue in enumerate(["new", "review", "review"]):
        cards(db).document(f"c{i}").set({"queue": queue, "due": i})
    got = cards(db).where(filter=where("queue", "==", "review")).where(filter=where("due", ">=", 0)).get()
    assert [s.id for s in got] == ["c1", "c2"]


def test_a_composite_error_names_the_index_like_production(
    emulator: Emulator, db: firestore.Client, project: str
) -> None:
    emulator.set_indexes(NO_INDEXES)
    message = refused(
        db,
        lambda db: (
            cards(db)
            .where(filter=where("deckId", "==", "d"))
            .where(filter=where("queue", "==", "new"))
            .order_by("due", direction=DESCENDING)
        ),
    )
    prefix = (
        f"The query requires an index. You can create it here: "
        f"https://console.firebase.google.com/v1/r/project/{project}/firestore/indexes?create_composite="
    )
    assert message.startswith(prefix)
    link = message[len(prefix) :].split(" ", 1)[0]
    index = Index.deserialize(base64.b64decode(link))
    assert index.name == f"projects/{project}/databases/(default)/collectionGroups/cards/indexes/_"
    assert index.query_scope == Index.QueryScope.COLLECTION
    assert [(f.field_path, Index.IndexField.Order(f.order).name) for f in index.fields] == [
        ("deckId", "ASCENDING"),
        ("queue", "ASCENDING"),
        ("due", "DESCENDING"),
        ("__name__", "DESCENDING"),
    ]
    declaration = json.loads(message.split("add to the index file: ", 1)[1].rstrip(")"))
    assert declaration == composite("cards", ("deckId", "ASCENDING"), ("queue", "ASCENDING"), ("due", "DESCENDING"))
    emulator.set_indexes(spec(declaration))  # what the message says to declare is enough
    cards(db).where(filter=where("deckId", "==", "d")).where(filter=where("queue", "==", "new")).order_by(
        "due", direction=DESCENDING
    ).get()


def test_a_collection_group_error_names_the_single_field_index(
    emulator: Emulator, db: firestore.Client, project: str
) -> None:
    emulator.set_indexes(NO_INDEXES)
    pending = where("pushPending", "==", True)
    message = refused(db, lambda db: db.collection_group("notifications").where(filter=pending))
    assert message.startswith(
        "The query requires a COLLECTION_GROUP_ASC index for collection notifications and field pushPending. "
        f"You can create it here: https://console.firebase.google.com/v1/r/project/{project}/firestore/indexes"
        "?create_exemption="
    )


def test_a_vector_error_gives_the_gcloud_command(emulator: Emulator, db: firestore.Client, project: str) -> None:
    emulator.set_indexes(NO_INDEXES)
    message = refused(
        db, lambda db: cards(db).find_nearest("embedding", Vector([1.0, 2.0]), distance_measure=COSINE, limit=1)
    )
    assert message == (
        "Missing vector index configuration. Please create the required index with the following gcloud command: "
        f"gcloud firestore indexes composite create --project={project} --collection-group=cards "
        "--query-scope=COLLECTION "
        '--field-config=vector-config=\'{"dimension":"2","flat": "{}"}\',field-path=embedding'
    )


def test_listen_targets_are_checked(emulator: Emulator, db: firestore.Client) -> None:
    query = cards(db).where(filter=where("a", "==", 1)).order_by("b")
    emulator.set_indexes(spec(composite("cards", ("a", "ASCENDING"), ("b", "ASCENDING"))))
    served = threading.Event()
    watch = query.on_snapshot(lambda *_: served.set())
    try:
        assert served.wait(10)
    finally:
        watch.unsubscribe()

    emulator.set_indexes(NO_INDEXES)
    snapshots: list[Any] = []
    watch = query.on_snapshot(lambda *args: snapshots.append(args))
    try:
        # The target is removed with FAILED_PRECONDITION and the client ends the stream, without a snapshot.
        deadline = time.monotonic() + 10
        while watch.is_active and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not watch.is_active
        assert snapshots == []
    finally:
        watch.unsubscribe()


def test_without_an_index_file_every_query_runs(emulator: Emulator, db: firestore.Client) -> None:
    emulator.set_indexes(None)
    for rule in RULES:
        run(db, rule.needs)


def test_a_bad_index_file_is_refused_at_start(tmp_path: Path) -> None:
    bad = tmp_path / "indexes.json"
    bad.write_text(json.dumps({"indexes": [{"collectionGroup": "c", "fields": [{"fieldPath": "a", "order": "UP"}]}]}))
    with pytest.raises(IndexFileError, match="unknown order 'UP'"):
        start("127.0.0.1", 0, indexes=bad)


# --- the project's index file ------------------------------------------------------------------------------------


def test_removing_a_declared_index_makes_the_app_query_that_uses_it_fail(
    emulator: Emulator, db: firestore.Client, tmp_path: Path
) -> None:
    from aksio.study import queries

    declared = json.loads(INDEX_FILE.read_text())
    now = datetime(2026, 1, 1, tzinfo=UTC)
    emulator.set_indexes(INDEX_FILE)
    assert queries.due_cards(db, "u1", queries.ALL, "review", now=now, limit=5) == []
    assert queries.count_due(db, "u1", queries.Scope(decks=("deck1",)), "review", now) == 0

    queue_due = composite("cards", ("queue", "ASCENDING"), ("due", "ASCENDING"))
    trimmed = copy.deepcopy(declared)
    trimmed["indexes"] = [i for i in declared["indexes"] if i != queue_due]
    assert len(trimmed["indexes"]) == len(declared["indexes"]) - 1
    copy_file = tmp_path / "firestore.indexes.json"
    copy_file.write_text(json.dumps(trimmed))
    emulator.set_indexes(copy_file)
    message = refused(db, lambda db: queries.due_cards(db, "u1", queries.ALL, "review", now=now, limit=5))
    link = urllib.parse.unquote(message.split("create_composite=", 1)[1].split(" ", 1)[0])
    index = Index.deserialize(base64.b64decode(link))
    fields = [(f.field_path, Index.IndexField.Order(f.order).name) for f in index.fields]
    assert fields == [("queue", "ASCENDING"), ("due", "ASCENDING"), ("__name__", "ASCENDING")]
    # the deck-scoped query has its own index (deckId, queue, due), still declared
    assert queries.count_due(db, "u1", queries.Scope(decks=("deck1",)), "review", now) == 0
