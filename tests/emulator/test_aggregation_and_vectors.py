"""count/sum/avg with aliases and Firestore's numeric rules; vector values and find_nearest."""

from __future__ import annotations

import math

import pytest
from google.api_core.exceptions import InvalidArgument
from google.cloud import firestore
from google.cloud.firestore_v1.aggregation import AggregationQuery
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.base_vector_query import DistanceMeasure
from google.cloud.firestore_v1.vector import Vector


def results(query: AggregationQuery) -> dict[str, object]:
    (row,) = query.get()
    return {r.alias: r.value for r in row}


def test_count_sum_avg_with_aliases(db: firestore.Client) -> None:
    coll = db.collection("agg")
    for doc_id, value in {"a": 1, "b": 2, "c": 3.5, "d": "text", "e": None}.items():
        coll.document(doc_id).set({"v": value, "k": 1})
    coll.document("f").set({"k": 1})
    query = coll.count(alias="n").sum("v", alias="total").avg("v", alias="mean")
    assert results(query) == {"n": 6, "total": 6.5, "mean": pytest.approx(6.5 / 3)}
    ints = coll.where(filter=FieldFilter("v", "in", [1, 2]))
    summed = results(ints.sum("v", alias="s").avg("v", alias="m"))
    assert summed == {"s": 3, "m": 1.5}
    assert isinstance(summed["s"], int)
    assert isinstance(summed["m"], float)
    empty = coll.where(filter=FieldFilter("k", "==", 2)).count(alias="n").sum("v", alias="s").avg("v", alias="m")
    # (the client reads a null average as 0.0, so look at the values themselves)
    (response,) = db._firestore_api.run_aggregation_query(request=empty._prep_stream()[0])
    fields = response.result.aggregate_fields
    kinds = {alias: (value._pb.WhichOneof("value_type"), value.integer_value) for alias, value in fields.items()}
    assert kinds == {"n": ("integer_value", 0), "s": ("integer_value", 0), "m": ("null_value", 0)}
    assert results(coll.limit(2).count(alias="n")) == {"n": 2}


def test_integer_sum_that_overflows_becomes_a_double(db: firestore.Client) -> None:
    coll = db.collection("overflow")
    coll.document("a").set({"v": 2**63 - 1})
    coll.document("b").set({"v": 1})
    total = results(coll.sum("v", alias="s"))["s"]
    assert isinstance(total, float)
    assert total == pytest.approx(2.0**63)


def test_aggregation_alias_errors(db: firestore.Client) -> None:
    coll = db.collection("agg-errors")
    with pytest.raises(InvalidArgument, match="duplicate alias"):
        coll.count(alias="x").sum("v", alias="x").get()
    with pytest.raises(InvalidArgument, match="can not be empty"):
        AggregationQuery(coll.limit(10)).get()


@pytest.fixture
def vectors(db: firestore.Client) -> firestore.CollectionReference:
    coll = db.collection("vectors")
    coll.document("east").set({"v": Vector([1.0, 0.0]), "kind": "a"})
    coll.document("north").set({"v": Vector([0.0, 2.0]), "kind": "a"})
    coll.document("far").set({"v": Vector([10.0, 10.0]), "kind": "b"})
    coll.document("3d").set({"v": Vector([1.0, 0.0, 0.0]), "kind": "a"})  # other dimension: never returned
    coll.document("plain").set({"v": [1.0, 0.0], "kind": "a"})  # an array, not a vector
    return coll


def nearest(query: firestore.Query) -> list[tuple[str, float]]:
    return [(s.id, round(s.get("d"), 6)) for s in query.stream()]


def test_find_nearest_with_each_distance_measure(vectors: firestore.CollectionReference) -> None:
    euclid = vectors.find_nearest("v", Vector([1.0, 1.0]), 3, DistanceMeasure.EUCLIDEAN, distance_result_field="d")
    assert nearest(euclid) == [("east", 1.0), ("north", round(math.sqrt(2), 6)), ("far", round(math.sqrt(162), 6))]
    cosine = vectors.find_nearest("v", Vector([1.0, 0.0]), 2, DistanceMeasure.COSINE, distance_result_field="d")
    assert nearest(cosine) == [("east", 0.0), ("far", round(1 - math.sqrt(0.5), 6))]
    dot = vectors.find_nearest("v", Vector([1.0, 1.0]), 5, DistanceMeasure.DOT_PRODUCT, distance_result_field="d")
    assert nearest(dot) == [("far", 20.0), ("north", 2.0), ("east", 1.0)]


def test_find_nearest_with_filter_and_threshold(vectors: firestore.CollectionReference) -> None:
    filtered = vectors.where(filter=FieldFilter("kind", "==", "a")).find_nearest(
        "v", Vector([10.0, 10.0]), 5, DistanceMeasure.EUCLIDEAN, distance_result_field="d", distance_threshold=12.81
    )
    assert [s.id for s in filtered.stream()] == ["north"]
    closest_dots = vectors.find_nearest("v", Vector([1.0, 1.0]), 5, DistanceMeasure.DOT_PRODUCT, distance_threshold=2)
    assert [s.id for s in closest_dots.stream()] == ["far", "north"]
