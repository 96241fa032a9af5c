"""Writes: set, merge, update masks, preconditions with Firestore's codes, transforms, batches, read_time."""

from __future__ import annotations

import datetime
import math

import pytest
from google.api_core.exceptions import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from google.cloud import firestore
from google.cloud.firestore_v1.bulk_writer import BulkWriterOptions, SendMode
from google.protobuf.timestamp_pb2 import Timestamp


def test_set_replaces_merge_merges_update_changes_paths(db: firestore.Client) -> None:
    ref = db.document("w/doc")
    ref.set({"a": 1, "m": {"x": 1, "y": 2}, "gone": True})
    ref.set({"m": {"x": 9}, "b": 2}, merge=True)
    assert ref.get().to_dict() == {"a": 1, "m": {"x": 9, "y": 2}, "gone": True, "b": 2}
    ref.update({"m.y": 3, "gone": firestore.DELETE_FIELD, "c.d": "new"})
    assert ref.get().to_dict() == {"a": 1, "m": {"x": 9, "y": 3}, "b": 2, "c": {"d": "new"}}
    ref.set({"only": True})
    assert ref.get().to_dict() == {"only": True}


def test_create_and_update_preconditions_answer_firestore_codes(db: firestore.Client) -> None:
    ref = db.document("w/pre")
    with pytest.raises(NotFound, match="No document to update"):
        ref.update({"a": 1})
    created = ref.create({"a": 1})
    with pytest.raises(AlreadyExists, match="Document already exists"):
        ref.create({"a": 2})
    stale = db.write_option(last_update_time=created.update_time)
    ref.update({"a": 2}, option=stale)  # matches: applied
    with pytest.raises(FailedPrecondition):
        ref.update({"a": 3}, option=stale)  # no longer matches
    future = Timestamp(seconds=int(datetime.datetime.now().timestamp()) + 3600)
    with pytest.raises(InvalidArgument):
        ref.delete(option=db.write_option(last_update_time=future))
    assert ref.get().to_dict() == {"a": 2}


def test_invalid_names_and_values_are_invalid_argument(db: firestore.Client) -> None:
    api = db._firestore_api
    database = db._database_string
    bad_writes = [
        {"update": {"name": f"{database}/documents/odd", "fields": {}}},  # a collection, not a document
        {"update": {"name": "projects/other/databases/(default)/documents/a/b", "fields": {}}},  # other database
        {"update": {"name": f"{database}/documents/a/__reserved__", "fields": {}}},
        {
            "update": {
                "name": f"{database}/documents/a/b",
                "fields": {"x": {"array_value": {"values": [{"array_value": {}}]}}},
            }
        },
        {
            "update": {"name": f"{database}/documents/a/b", "fields": {}},
            "update_transforms": [{"field_path": "n", "increment": {"string_value": "1"}}],
        },
    ]
    for write in bad_writes:
        with pytest.raises(InvalidArgument):
            api.commit(request={"database": database, "writes": [write]})
    assert not db.document("a/b").get().exists


def test_transforms_and_their_results(db: firestore.Client) -> None:
    ref = db.document("w/transforms")
    ref.set({"i": 1, "d": 1, "hi": 5, "lo": 5, "arr": [1, 2, 2, 3], "big": 2**63 - 1})
    result = ref.update(
        {
            "i": firestore.Increment(2),
            "d": firestore.Increment(0.5),
            "hi": firestore.Maximum(7.5),
            "lo": firestore.Minimum(5.0),
            "arr": firestore.ArrayRemove([2]),
            "new": firestore.ArrayUnion([1, 1, "x"]),
            "big": firestore.Increment(10),
            "at": firestore.SERVER_TIMESTAMP,
        }
    )
    data = ref.get().to_dict()
    assert data["i"] == 3
    assert isinstance(data["i"], int)
    assert data["d"] == 1.5
    assert isinstance(data["d"], float)
    assert data["hi"] == 7.5
    assert isinstance(data["hi"], float)
    assert data["lo"] == 5
    assert isinstance(data["lo"], int)
    assert data["arr"] == [1, 3]
    assert data["new"] == [1, "x"]
    assert data["big"] == 2**63 - 1  # integer increments saturate
    assert data["at"] == result.update_time
    assert len(result.transform_results) == 8
    ref.update({"arr": firestore.ArrayUnion([3, 4.0, 1])})
    assert ref.get().get("arr") == [1, 3, 4.0]


def test_write_that_changes_nothing_keeps_the_update_time(db: firestore.Client) -> None:
    ref = db.document("w/same")
    first = ref.set({"a": 1})
    second = ref.set({"a": 1})
    assert second.update_time == first.update_time
    third = ref.set({"a": 2})
    assert third.update_time > first.update_time


def test_batch_is_atomic(db: firestore.Client) -> None:
    db.document("w/exists").set({"v": 1})
    batch = db.batch()
    batch.set(db.document("w/new"), {"v": 1})
    batch.create(db.document("w/exists"), {"v": 2})
    with pytest.raises(AlreadyExists):
        batch.commit()
    assert not db.document("w/new").get().exists
    batch = db.batch()
    batch.set(db.document("w/x"), {"v": 1})
    batch.delete(db.document("w/exists"))
    results = batch.commit()
    assert results[0].update_time is not None
    assert not results[1]._pb.HasField("update_time")


def test_bulk_writer_reports_each_write(db: firestore.Client) -> None:
    writer = db.bulk_writer(options=BulkWriterOptions(mode=SendMode.serial))
    failures = []
    writer.on_write_error(lambda error, _writer: failures.append(error.code) and False)
    for n in range(30):
        writer.create(db.document(f"bulk/d{n}"), {"n": n})
    writer.create(db.document("bulk/d0"), {"n": -1})
    writer.close()
    assert len(db.collection("bulk").get()) == 30
    assert failures == [6]  # ALREADY_EXISTS, for that write only


def test_reads_at_a_past_read_time(db: firestore.Client) -> None:
    ref = db.document("history/doc")
    first = ref.set({"v": 1})
    ref.set({"v": 2})
    db.document("history/later").set({"v": 3})
    assert ref.get(read_time=first.update_time).get("v") == 1
    coll = db.collection("history")
    assert [s.get("v") for s in coll.stream(read_time=first.update_time)] == [1]
    assert [c.id for c in db.collections(read_time=first.update_time)] == ["history"]
    ref.delete()
    assert not ref.get().exists
    assert ref.get(read_time=first.update_time).exists
    assert math.isclose(coll.count().get(read_time=first.update_time)[0][0].value, 1)
    two_hours_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2)
    with pytest.raises(FailedPrecondition, match="too old"):
        ref.get(read_time=two_hours_ago)


def test_named_databases_are_isolated(make_client: object) -> None:
    default = make_client()  # type: ignore[operator]
    named = make_client("other-db")  # type: ignore[operator]
    default.document("iso/doc").set({"db": "default"})
    named.document("iso/doc").set({"db": "named"})
    assert default.document("iso/doc").get().get("db") == "default"
    assert named.document("iso/doc").get().get("db") == "named"
    named.document("iso/doc").delete()
    assert default.document("iso/doc").get().exists
