"""Structured queries: candidates, filters, effective ordering, cursors, offset/limit, projection, vector search
and aggregations, evaluated over a database at a read time."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from google.cloud.firestore_v1.types import query as query_types

from .errors import invalid
from .names import reference_key
from .store import Database, Entry, Version
from .values import (
    RANK_ARRAY,
    RANK_NAN,
    RANK_NULL,
    RANK_REFERENCE,
    Document,
    FieldPath,
    Key,
    double_value,
    get_field,
    int_value,
    is_nan,
    null_value,
    number_of,
    parse_field_path,
    project_fields,
    set_field,
    sort_key,
    value_vector,
)

StructuredQuery = query_types.StructuredQuery.pb()
Operator = query_types.StructuredQuery.FieldFilter.Operator
UnaryOperator = query_types.StructuredQuery.UnaryFilter.Operator
CompositeOperator = query_types.StructuredQuery.CompositeFilter.Operator
Direction = query_types.StructuredQuery.Direction
DistanceMeasure = query_types.StructuredQuery.FindNearest.DistanceMeasure

NAME: FieldPath = ("__name__",)
MAX_DISJUNCTION_VALUES = 30
MAX_AGGREGATIONS = 5
MAX_VECTOR_LIMIT = 1000
MAX_VECTOR_DIMENSION = 2048
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

Row = tuple[Entry, Version]
Predicate = Callable[[Row], bool]
KeyGetter = Callable[[Row], Key | None]

_RANGE = {
    Operator.LESS_THAN: lambda a, b: a < b,
    Operator.LESS_THAN_OR_EQUAL: lambda a, b: a <= b,
    Operator.GREATER_THAN: lambda a, b: a > b,
    Operator.GREATER_THAN_OR_EQUAL: lambda a, b: a >= b,
}
_INEQUALITIES = {*_RANGE, Operator.NOT_EQUAL, Operator.NOT_IN}
_UNARY_INEQUALITIES = {UnaryOperator.IS_NOT_NAN, UnaryOperator.IS_NOT_NULL}
_NULL_KEY: Key = (RANK_NULL,)
_NAN_KEY: Key = (RANK_NAN,)


def key_getter(path: FieldPath) -> KeyGetter:
    if path == NAME:
        return lambda row: row[0].ref_key
    return lambda row: row[1].key(path)


@dataclass
class Order:
    path: FieldPath
    descending: bool


@dataclass
class Cursor:
    keys: list[Key]
    before: bool


@dataclass
class Nearest:
    path: FieldPath
    vector: list[float]
    measure: int
    limit: int
    result_field: FieldPath | None
    threshold: float | None


@dataclass
class Query:
    """A validated StructuredQuery, ready to run against a database."""

    parent: str
    collection_id: str
    all_descendants: bool
    predicate: Predicate | None
    orders: list[Order]
    start: Cursor | None
    end: Cursor | None
    offset: int
    limit: int | None
    projection: list[FieldPath] | None
    nearest: Nearest | None

    def __post_init__(self) -> None:
        # Orders always end with __name__ (see _orders). A row's sort key is the tuple of its order keys, sorted as
        # is when all directions agree (reversed when all descend); mixed directions wrap descending parts.
        self._fields = [o.path for o in self.orders[:-1]]
        self._reverse = all(o.descending for o in self.orders)
        flags = [o.descending for o in self.orders]
        if not self._reverse and any(flags):
            self._wrap: Callable[[list[Any]], tuple[Any, ...]] = lambda keys: tuple(
                _Descending(k) if d else k for k, d in zip(keys, flags, strict=False)
            )
        else:
            self._wrap = tuple

    def candidates(self, db: Database) -> Iterable[Entry]:
        if not self.all_descendants:
            collection = f"{self.parent}/{self.collection_id}" if self.parent else self.collection_id
            return db.collections.get(collection, {}).values()
        if not self.collection_id:
            return db.descendants(self.parent)
        group = db.groups.get(self.collection_id, {}).values()
        if not self.parent:
            return group
        prefix = self.parent + "/"
        return (e for e in group if e.path.startswith(prefix))

    def in_scope(self, entry: Entry) -> bool:
        """Whether the document at ``entry`` is one of the query's candidates (its collection/parent matches)."""
        path = entry.path
        parent, _, _ = path.rpartition("/")
        coll_parent, _, coll_id = parent.rpartition("/")
        if not self.all_descendants:
            return coll_parent == self.parent and coll_id == self.collection_id
        if self.parent and not path.startswith(self.parent + "/"):
            return False
        return not self.collection_id or coll_id == self.collection_id

    def run(self, db: Database, read_time: int | None) -> tuple[list[Row], int]:
        """The matching documents in order, and how many the offset skipped."""
        predicate = self.predicate
        fields = self._fields
        wrap = self._wrap
        keyed: list[tuple[tuple[Any, ...], Row]] = []
        for row in self._visible(db, read_time):
            entry, version = row
            if predicate is not None and not predicate(row):
                continue
            if fields:
                field_key = version.key
                keys = [field_key(path) for path in fields]
                if None in keys:
                    continue
                keys.append(entry.ref_key)
                keyed.append((wrap(keys), row))
            else:
                keyed.append(((entry.ref_key,), row))
        if self.nearest is not None:
            return _nearest([row for _, row in keyed], self.nearest), 0
        if self.start is not None:
            start = self._wrap(self.start.keys)
            lowest = 0 if self.start.before else 1  # start_at keeps the cursor's position, start_after does not
            keyed = [item for item in keyed if self._position(item[0], start) >= lowest]
        if self.end is not None:
            end = self._wrap(self.end.keys)
            highest = -1 if self.end.before else 0  # end_before stops before the cursor, end_at at it
            keyed = [item for item in keyed if self._position(item[0], end) <= highest]
        wanted = None if self.limit is None else self.offset + self.limit
        if wanted is not None and wanted < len(keyed) // 4:
            pick = heapq.nlargest if self._reverse else heapq.nsmallest
            keyed = pick(wanted, keyed, key=_first)
        else:
            keyed.sort(key=_first, reverse=self._reverse)
        skipped = min(self.offset, len(keyed))
        ordered = [row for _, row in keyed[skipped:]]
        if self.limit is not None:
            ordered = ordered[: self.limit]
        return ordered, skipped

    def _visible(self, db: Database, read_time: int | None) -> Iterator[Row]:
        """The candidates that exist at ``read_time`` (latest when None), with their version then."""
        for entry in self.candidates(db):
            if read_time is None:
                version = entry.versions[-1]
                if version.doc is not None:
                    yield entry, version
            else:
                found = entry.at(read_time)
                if found is not None:
                    yield entry, found

    def _position(self, row_key: tuple[Any, ...], cursor: tuple[Any, ...]) -> int:
        """-1, 0 or 1: where a row sorts relative to a (wrapped) cursor, in query order."""
        head = row_key[: len(cursor)]
        result = (head > cursor) - (head < cursor)
        return -result if self._reverse else result

    def render(self, row: Row) -> Any:
        """The Document to return for a row: projected, with the vector distance when asked for."""
        doc = row[1].doc
        if self.projection is None and (self.nearest is None or self.nearest.result_field is None):
            return doc
        result = Document(name=doc.name)
        result.create_time.CopyFrom(doc.create_time)
        result.update_time.CopyFrom(doc.update_time)
        if self.projection is None:
            result.fields.MergeFrom(doc.fields)
        else:
            project_fields(doc.fields, result.fields, self.projection)
        if self.nearest is not None and self.nearest.result_field is not None:
            distance = _distance(self.nearest, value_vector(get_field(doc.fields, self.nearest.path)) or [])
            set_field(result.fields, self.nearest.result_field, double_value(distance if distance is not None else 0.0))
        return result


def _first(item: tuple[Any, Row]) -> Any:
    return item[0]


class _Descending:
    """Wraps a key so that it sorts in reverse (for the descending parts of a mixed-direction ordering)."""

    __slots__ = ("key",)

    def __init__(self, key: Key | None) -> None:
        self.key = key

    def __lt__(self, other: _Descending) -> bool:
        return bool(other.key < self.key)  # type: ignore[operator]

    def __gt__(self, other: _Descending) -> bool:
        return bool(other.key > self.key)  # type: ignore[operator]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


# --- compiling ---------------------------------------------------------------------------------------------------


def compile_query(parent: str, query: Any, index_fields: list[FieldPath] | None = None) -> Query:
    """Validate a StructuredQuery (``parent`` is the relative path of the parent document, "" for the root).

    ``index_fields``: fields a limited aggregation reads (sum, avg). Without an explicit order, Firestore scans the
    index of those fields, so the limit keeps the documents with the smallest values, and documents without them
    are not seen; the same ordering (and existence filter) is applied here.
    """
    selectors = query.from_
    if len(selectors) != 1:
        raise invalid("A query must select exactly one collection (from).")
    selector = selectors[0]
    if not selector.collection_id and not selector.all_descendants:
        raise invalid("A collection id is required unless all_descendants is set.")
    if "/" in selector.collection_id:
        raise invalid(f'Collection id "{selector.collection_id}" must not contain "/".')
    predicate = _filter(query.where) if query.HasField("where") else None
    orders = _orders(query, index_fields or [])
    if query.offset < 0:
        raise invalid("offset must be non-negative.")
    limit = None
    if query.HasField("limit"):
        if query.limit.value < 0:
            raise invalid("limit must be non-negative.")
        limit = query.limit.value
    projection = None
    if query.HasField("select"):
        projection = [p for p in (parse_field_path(f.field_path) for f in query.select.fields) if p != NAME]
    return Query(
        parent=parent,
        collection_id=selector.collection_id,
        all_descendants=selector.all_descendants,
        predicate=predicate,
        orders=orders,
        start=_cursor(query.start_at, orders) if query.HasField("start_at") else None,
        end=_cursor(query.end_at, orders) if query.HasField("end_at") else None,
        offset=query.offset,
        limit=limit,
        projection=projection,
        nearest=_find_nearest(query.find_nearest) if query.HasField("find_nearest") else None,
    )


def _filter(spec: Any) -> Predicate:
    kind = spec.WhichOneof("filter_type")
    if kind == "composite_filter":
        parts = [_filter(f) for f in spec.composite_filter.filters]
        if not parts:
            raise invalid("A composite filter must contain at least one filter.")
        if len(parts) == 1:
            return parts[0]
        if spec.composite_filter.op == CompositeOperator.OR:
            return lambda row: any(p(row) for p in parts)
        if spec.composite_filter.op == CompositeOperator.AND:
            return lambda row: all(p(row) for p in parts)
        raise invalid("A composite filter operator must be AND or OR.")
    if kind == "field_filter":
        return _field_filter(spec.field_filter)
    if kind == "unary_filter":
        return _unary_filter(spec.unary_filter)
    raise invalid("A filter must be a composite, field or unary filter.")


def _unary_filter(spec: Any) -> Predicate:
    get = key_getter(parse_field_path(spec.field.field_path))
    op = spec.op
    if op == UnaryOperator.IS_NAN:
        return lambda row: get(row) == _NAN_KEY
    if op == UnaryOperator.IS_NULL:
        return lambda row: get(row) == _NULL_KEY
    if op == UnaryOperator.IS_NOT_NAN:
        return lambda row: (k := get(row)) is not None and k not in (_NAN_KEY, _NULL_KEY)
    if op == UnaryOperator.IS_NOT_NULL:
        return lambda row: (k := get(row)) is not None and k != _NULL_KEY
    raise invalid("A unary filter needs an operator.")


def _field_filter(spec: Any) -> Predicate:  # noqa: PLR0911, PLR0912 - one branch per operator
    path = parse_field_path(spec.field.field_path)
    get = key_getter(path)
    op = spec.op
    value = spec.value
    if value.WhichOneof("value_type") is None:
        raise invalid(f"The filter on {spec.field.field_path} needs a value.")
    if op in (Operator.IN, Operator.NOT_IN, Operator.ARRAY_CONTAINS_ANY):
        if value.WhichOneof("value_type") != "array_value" or not value.array_value.values:
            raise invalid(f"A '{Operator(op).name}' filter needs a non-empty array value.")
        if len(value.array_value.values) > MAX_DISJUNCTION_VALUES:
            raise invalid(f"A '{Operator(op).name}' filter supports up to 30 values.")
        if path == NAME and op != Operator.ARRAY_CONTAINS_ANY:
            for element in value.array_value.values:
                _check_reference(element, spec.field.field_path)
        keys = {sort_key(v) for v in value.array_value.values}
        if op == Operator.IN:
            return lambda row: get(row) in keys
        if op == Operator.NOT_IN:
            return lambda row: (k := get(row)) is not None and k != _NULL_KEY and k not in keys
        return lambda row: (k := get(row)) is not None and k[0] == RANK_ARRAY and not keys.isdisjoint(k[1])
    if path == NAME and op != Operator.ARRAY_CONTAINS:
        _check_reference(value, spec.field.field_path)
    target = sort_key(value)
    if op == Operator.EQUAL:
        return lambda row: get(row) == target
    if op == Operator.NOT_EQUAL:
        return lambda row: (k := get(row)) is not None and k not in (target, _NULL_KEY)
    if op == Operator.ARRAY_CONTAINS:
        return lambda row: (k := get(row)) is not None and k[0] == RANK_ARRAY and target in k[1]
    compare = _RANGE.get(op)
    if compare is None:
        raise invalid("A field filter needs an operator.")
    if target[0] in (RANK_NULL, RANK_NAN):
        raise invalid("Null and NaN only support equality comparisons ('==', '!=', 'is', 'is not').")
    target_rank = target[0]
    return lambda row: (k := get(row)) is not None and k[0] == target_rank and compare(k, target)


def _check_reference(value: Any, field: str) -> None:
    if value.WhichOneof("value_type") != "reference_value":
        raise invalid(f"The value for {field} must be a document reference (reference_value).")


def _inequality_paths(spec: Any, into: list[FieldPath]) -> None:
    kind = spec.WhichOneof("filter_type")
    if kind == "composite_filter":
        for part in spec.composite_filter.filters:
            _inequality_paths(part, into)
    elif (kind == "field_filter" and spec.field_filter.op in _INEQUALITIES) or (
        kind == "unary_filter" and spec.unary_filter.op in _UNARY_INEQUALITIES
    ):
        field = spec.field_filter.field if kind == "field_filter" else spec.unary_filter.field
        path = parse_field_path(field.field_path)
        if path not in into:
            into.append(path)


def _orders(query: Any, index_fields: list[FieldPath]) -> list[Order]:
    """Explicit orders, then inequality fields (by path), then __name__, in the last explicit direction."""
    orders: list[Order] = []
    seen: set[FieldPath] = set()
    for spec in query.order_by:
        path = parse_field_path(spec.field.field_path)
        if path in seen:
            continue
        seen.add(path)
        orders.append(Order(path, spec.direction == Direction.DESCENDING))
        if path == NAME:
            return orders
    descending = orders[-1].descending if orders else False
    if query.HasField("where"):
        inequalities: list[FieldPath] = []
        _inequality_paths(query.where, inequalities)
        for path in sorted(inequalities):
            if path not in seen and path != NAME:
                seen.add(path)
                orders.append(Order(path, descending))
    if not query.order_by:
        for path in index_fields:
            if path not in seen:
                seen.add(path)
                orders.append(Order(path, descending))
    orders.append(Order(NAME, descending))
    return orders


def _cursor(spec: Any, orders: list[Order]) -> Cursor:
    if len(spec.values) > len(orders):
        raise invalid(
            "Too many cursor values specified. The specified values must match the orderBy() constraints of the query."
        )
    keys: list[Key] = []
    for order, value in zip(orders, spec.values, strict=False):
        if order.path == NAME:
            if value.WhichOneof("value_type") != "reference_value":
                raise invalid("The cursor value for __name__ must be a document reference.")
            keys.append((RANK_REFERENCE, reference_key(value.reference_value)))
        else:
            keys.append(sort_key(value))
    return Cursor(keys, spec.before)


def _find_nearest(spec: Any) -> Nearest:
    vector = value_vector(spec.query_vector)
    if not vector:
        raise invalid("find_nearest needs a non-empty query vector.")
    if len(vector) > MAX_VECTOR_DIMENSION:
        raise invalid("find_nearest supports vectors of at most 2048 dimensions.")
    if spec.distance_measure not in (DistanceMeasure.EUCLIDEAN, DistanceMeasure.COSINE, DistanceMeasure.DOT_PRODUCT):
        raise invalid("find_nearest needs a distance measure.")
    if not spec.HasField("limit") or not 0 < spec.limit.value <= MAX_VECTOR_LIMIT:
        raise invalid("find_nearest needs a limit between 1 and 1000.")
    return Nearest(
        path=parse_field_path(spec.vector_field.field_path),
        vector=vector,
        measure=spec.distance_measure,
        limit=spec.limit.value,
        result_field=parse_field_path(spec.distance_result_field) if spec.distance_result_field else None,
        threshold=spec.distance_threshold.value if spec.HasField("distance_threshold") else None,
    )


def _distance(nearest: Nearest, vector: list[float]) -> float | None:
    """The distance of ``vector`` to the query vector; None when it cannot be compared."""
    query = nearest.vector
    if len(vector) != len(query):
        return None
    if nearest.measure == DistanceMeasure.EUCLIDEAN:
        return math.sqrt(sum((a - b) ** 2 for a, b in zip(vector, query, strict=True)))
    dot = sum(a * b for a, b in zip(vector, query, strict=True))
    if nearest.measure == DistanceMeasure.DOT_PRODUCT:
        return dot
    norms = math.sqrt(sum(a * a for a in vector)) * math.sqrt(sum(b * b for b in query))
    return None if norms == 0 else 1.0 - dot / norms


def _nearest(rows: list[Row], nearest: Nearest) -> list[Row]:
    scored: list[tuple[float, Row]] = []
    higher_is_closer = nearest.measure == DistanceMeasure.DOT_PRODUCT
    for row in rows:
        distance = _distance(nearest, value_vector(get_field(row[1].doc.fields, nearest.path)) or [])
        if distance is None:
            continue
        if nearest.threshold is not None and (
            distance < nearest.threshold if higher_is_closer else distance > nearest.threshold
        ):
            continue
        scored.append((distance, row))
    scored.sort(key=lambda item: (-item[0] if higher_is_closer else item[0], item[1][0].name_key))
    return [row for _, row in scored[: nearest.limit]]


# --- aggregations ------------------------------------------------------------------------------------------------


@dataclass
class Aggregation:
    alias: str
    kind: str
    path: FieldPath | None
    up_to: int | None


def compile_aggregations(specs: Iterable[Any]) -> list[Aggregation]:
    aggregations: list[Aggregation] = []
    for index, spec in enumerate(specs, start=1):
        kind = spec.WhichOneof("operator")
        if kind is None:
            raise invalid("An aggregation needs an operator (count, sum or avg).")
        alias = spec.alias or f"field_{index}"
        path = None
        up_to = None
        if kind == "count":
            if spec.count.HasField("up_to"):
                if spec.count.up_to.value <= 0:
                    raise invalid("count up_to must be positive.")
                up_to = spec.count.up_to.value
        else:
            path = parse_field_path(getattr(spec, kind).field.field_path)
        aggregations.append(Aggregation(alias, kind, path, up_to))
    if not aggregations:
        raise invalid("Aggregations can not be empty.")
    if len(aggregations) > MAX_AGGREGATIONS:
        raise invalid("A query can have at most 5 aggregations.")
    aliases = [a.alias for a in aggregations]
    duplicates = sorted({a for a in aliases if aliases.count(a) > 1})
    if duplicates:
        raise invalid(f"Aggregation aliases contain duplicate alias {duplicates[0]}.")
    return aggregations


def aggregate(aggregation: Aggregation, rows: list[Row]) -> Any:
    if aggregation.kind == "count":
        count = len(rows)
        return int_value(min(count, aggregation.up_to) if aggregation.up_to is not None else count)
    assert aggregation.path is not None
    numbers: list[Any] = []
    for _, version in rows:
        value = get_field(version.doc.fields, aggregation.path)
        if value is not None and value.WhichOneof("value_type") in ("integer_value", "double_value"):
            numbers.append(value)
    if aggregation.kind == "sum":
        return _sum(numbers)
    if not numbers:
        return null_value()
    if any(is_nan(v) for v in numbers):
        return double_value(math.nan)
    return double_value(sum(float(number_of(v)) for v in numbers) / len(numbers))


def _sum(numbers: list[Any]) -> Any:
    if all(v.WhichOneof("value_type") == "integer_value" for v in numbers):
        total = sum(v.integer_value for v in numbers)
        if INT64_MIN <= total <= INT64_MAX:
            return int_value(total)
    if any(is_nan(v) for v in numbers):
        return double_value(math.nan)
    return double_value(sum(float(number_of(v)) for v in numbers))
