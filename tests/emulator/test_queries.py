"""Queries: cross-type ordering, every filter operator, composites, implicit orders, cursors, projections,
collection groups and kindless all-descendants queries."""

from __future__ import annotations

import datetime
import math

import pytest
from google.api_core.exceptions import InvalidArgument
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import And, FieldFilter, Or
from google.cloud.firestore_v1.field_path import FieldPath
from google.cloud.firestore_v1.vector import Vector

UTC = datetime.UTC


def ids(query: firestore.Query) -> list[str]:
    return [snapshot.id for snapshot in query.stream()]


def test_values_of_every_type_order_as_firestore_orders_them(db: firestore.Client) -> None:
    values = {
        "01-null": None,
        "02-false": False,
        "03-true": True,
        "04-nan": math.nan,
        "05-minus": -1.5,
        "06-int": 1,
        "07-double": 1.5,
        "08-big": 2**62,
        "09-time": datetime.datetime(2020, 1, 1, tzinfo=UTC),
        "10-string": "Z",
        "11-string": "a",
        "12-string": "é",
        "13-bytes": b"\x00",
        "14-ref": db.document("a/b"),
        "15-ref": db.document("a/b/c/d"),
        "16-geo": firestore.GeoPoint(-10, 5),
        "17-array": [1, "x"],
        "18-array": [1, "x", None],
        "19-array": [2],
        "20-vector": Vector([9.0, 9.0]),
        "21-vector": Vector([1.0, 1.0, 1.0]),
        "22-map": {"a": 2},
        "23-map": {"b": 1},
    }
    for doc_id, value in reversed(values.items()):
        db.collection("mixed").document(doc_id).set({"v": value})
    db.collection("mixed").document("no-field").set({"other": 1})

    assert ids(db.collection("mixed").order_by("v")) == list(values)
    assert ids(db.collection("mixed").order_by("v", direction="DESCENDING")) == list(reversed(values))


def test_integers_and_doubles_compare_numerically_and_equal_across_types(db: firestore.Client) -> None:
    for doc_id, value in {"i1": 1, "d1": 1.0, "i2": 2, "d05": 0.5}.items():
        db.collection("nums").document(doc_id).set({"n": value})
    assert sorted(ids(db.collection("nums").where(filter=FieldFilter("n", "==", 1)))) == ["d1", "i1"]
    assert ids(db.collection("nums").where(filter=FieldFilter("n", ">", 0.9)).order_by("n")) == ["d1", "i1", "i2"]


@pytest.fixture
def people(db: firestore.Client) -> firestore.CollectionReference:
    people = db.collection("people")
    people.document("ada").set({"age": 36, "tags": ["math", "poetry"], "city": "London", "score": math.nan})
    people.document("alan").set({"age": 41, "tags": ["math"], "city": None, "score": 3})
    people.document("grace").set({"age": 85, "tags": ["navy", "cobol"], "city": "Arlington", "nested": {"k": 1}})
    people.document("linus").set({"age": "unknown", "city": "Portland", "nested": {"k": 2}})
    people.document("nobody").set({"name": "no fields we query"})
    return people


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("age", "==", 36, ["ada"]),
        ("age", "<", 41, ["ada"]),  # range filters only match values of the same type
        ("age", "<=", 41, ["ada", "alan"]),
        ("age", ">", 40, ["alan", "grace"]),
        ("age", ">=", "a", ["linus"]),
        ("age", "!=", 36, ["alan", "grace", "linus"]),  # excludes documents without the field
        ("city", "!=", "London", ["grace", "linus"]),  # and those where it is null
        ("city", "not-in", ["London", "Portland"], ["grace"]),
        ("city", "in", ["London", "Portland", "Paris"], ["ada", "linus"]),
        ("tags", "array_contains", "math", ["ada", "alan"]),
        ("tags", "array_contains_any", ["poetry", "navy"], ["ada", "grace"]),
        ("city", "==", None, ["alan"]),  # is null
        ("city", "!=", None, ["ada", "grace", "linus"]),  # is not null
        ("score", "==", math.nan, ["ada"]),  # is NaN
        ("score", "!=", math.nan, ["alan"]),  # is not NaN: not NaN, not null, present
        ("nested.k", ">", 1, ["linus"]),
    ],
)
def test_filter_operators(
    people: firestore.CollectionReference, field: str, op: str, value: object, expected: list[str]
) -> None:
    assert sorted(ids(people.where(filter=FieldFilter(field, op, value)))) == expected


def test_composite_filters_nest_and_or(people: firestore.CollectionReference) -> None:
    query = people.where(
        filter=Or(
            [
                And([FieldFilter("age", ">", 40), FieldFilter("tags", "array_contains", "math")]),
                And([FieldFilter("city", "==", "Portland"), Or([FieldFilter("nested.k", "==", 2)])]),
            ]
        )
    )
    assert sorted(ids(query)) == ["alan", "linus"]


def test_inequalities_on_several_fields_order_by_those_fields(db: firestore.Client) -> None:
    coll = db.collection("multi")
    coll.document("a").set({"x": 3, "y": 1})
    coll.document("b").set({"x": 2, "y": 2})
    coll.document("c").set({"x": 1, "y": 3})
    coll.document("d").set({"x": 2, "y": 9})
    query = coll.where(filter=FieldFilter("y", "<", 5)).where(filter=FieldFilter("x", ">", 1))
    assert ids(query) == ["b", "a"]  # implicit order: x, then y, then __name__


def test_order_by_excludes_documents_without_the_field_and_breaks_ties_by_name(db: firestore.Client) -> None:
    coll = db.collection("ties")
    for doc_id, data in {"c": {"k": 1}, "a": {"k": 1}, "b": {"k": 0}, "z": {}}.items():
        coll.document(doc_id).set(data)
    assert ids(coll.order_by("k")) == ["b", "a", "c"]
    assert ids(coll.order_by("k", direction="DESCENDING")) == ["c", "a", "b"]
    assert ids(coll) == ["a", "b", "c", "z"]


def test_cursors_limits_offset_and_limit_to_last(db: firestore.Client) -> None:
    coll = db.collection("pages")
    for n in range(10):
        coll.document(f"p{n}").set({"n": n, "parity": n % 2})
    ordered = coll.order_by("n")
    assert ids(ordered.start_at({"n": 3}).end_before({"n": 6})) == ["p3", "p4", "p5"]
    assert ids(ordered.start_after({"n": 3}).end_at({"n": 6})) == ["p4", "p5", "p6"]
    assert ids(ordered.offset(2).limit(3)) == ["p2", "p3", "p4"]
    # (the client flips the order protos of the query it is given in place, so it gets a query of its own)
    assert [s.id for s in coll.order_by("n").limit_to_last(2).get()] == ["p8", "p9"]
    snapshot = coll.document("p4").get()
    assert ids(ordered.start_after(snapshot).limit(2)) == ["p5", "p6"]
    by_parity = coll.order_by("parity").order_by("n", direction="DESCENDING")
    assert ids(by_parity.start_at({"parity": 1, "n": 5})) == ["p5", "p3", "p1"]
    by_name = coll.order_by(FieldPath.document_id())
    assert ids(by_name.start_after([coll.document("p7")])) == ["p8", "p9"]


def test_cursor_with_more_values_than_orders_is_invalid(db: firestore.Client) -> None:
    coll = db.collection("pages")
    coll.document("x").set({"n": 1})
    request = {
        "parent": db._database_string + "/documents",
        "structured_query": {
            "from_": [{"collection_id": "pages"}],
            "order_by": [{"field": {"field_path": "n"}}],
            "start_at": {
                "values": [
                    {"integer_value": 1},
                    {"reference_value": coll.document("x")._document_path},
                    {"integer_value": 3},
                ]
            },
        },
    }
    with pytest.raises(InvalidArgument):
        list(db._firestore_api.run_query(request=request))


def test_select_projects_fields_and_empty_select_returns_names_only(people: firestore.CollectionReference) -> None:
    grace = next(people.where(filter=FieldFilter("age", "==", 85)).select(["city", "nested.k"]).stream())
    assert grace.to_dict() == {"city": "Arlington", "nested": {"k": 1}}
    names = [s.to_dict() for s in people.select([]).stream()]
    assert names == [{}] * 5


def test_backticked_field_paths_reach_keys_with_dots(db: firestore.Client) -> None:
    coll = db.collection("dots")
    coll.document("one").set({"a.b": {"c": 1}, "a": {"b": 5}})
    coll.document("two").set({"a.b": {"c": 2}})
    assert ids(coll.where(filter=FieldFilter(FieldPath("a.b", "c").to_api_repr(), "==", 2))) == ["two"]
    assert ids(coll.where(filter=FieldFilter("a.b", "==", 5))) == ["one"]
    coll.document("one").update({FieldPath("a.b", "c").to_api_repr(): 7})
    assert coll.document("one").get().to_dict() == {"a.b": {"c": 7}, "a": {"b": 5}}


def test_collection_group_and_recursive_queries(db: firestore.Client) -> None:
    db.document("rooms/r1/messages/m1").set({"n": 1})
    db.document("rooms/r2/messages/m2").set({"n": 2})
    db.document("rooms/r2/messages/m2/messages/m3").set({"n": 3})
    db.document("rooms/r1").set({"n": 0})
    db.document("other/o1/messagesx/m4").set({"n": 4})
    group = db.collection_group("messages")
    assert sorted(ids(group)) == ["m1", "m2", "m3"]
    assert ids(group.where(filter=FieldFilter("n", ">=", 2)).order_by("n")) == ["m2", "m3"]
    everything = db.collection("rooms").recursive()  # kindless all-descendants query
    assert ids(everything) == ["r1", "m1", "m2", "m3"]
    assert db.recursive_delete(db.collection("rooms")) == 4
    assert ids(group) == []
    assert ids(db.collection_group("messagesx")) == ["m4"]


def test_invalid_queries_answer_invalid_argument(db: firestore.Client) -> None:
    parent = db._database_string + "/documents"
    bad_queries = [
        {
            "from_": [{"collection_id": "x"}],
            "where": {"field_filter": {"field": {"field_path": "a"}, "op": "LESS_THAN", "value": {"null_value": 0}}},
        },
        {
            "from_": [{"collection_id": "x"}],
            "where": {"field_filter": {"field": {"field_path": "a"}, "op": "IN", "value": {"integer_value": 1}}},
        },
        {
            "from_": [{"collection_id": "x"}],
            "where": {
                "field_filter": {"field": {"field_path": "__name__"}, "op": "EQUAL", "value": {"string_value": "x"}}
            },
        },
        {"from_": [{"collection_id": "x"}], "order_by": [{"field": {"field_path": "a..b"}}]},
        {"from_": [{"collection_id": "x"}], "limit": {"value": -1}},
        {"from_": []},
    ]
    for structured_query in bad_queries:
        with pytest.raises(InvalidArgument):
            list(db._firestore_api.run_query(request={"parent": parent, "structured_query": structured_query}))
