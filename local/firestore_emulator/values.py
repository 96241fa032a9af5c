"""Firestore values: cross-type ordering, field paths, and reading/writing fields of a document.

Values stay protobuf ``google.firestore.v1.Value`` messages; :func:`sort_key` maps one to a Python tuple whose
natural ordering is Firestore's ordering, so equality, range filters and sorting are plain tuple operations:

null < boolean < NaN < numbers (integers and doubles compared numerically) < timestamp < string (UTF-8 order)
< bytes < reference < geo point < array < vector (by dimension, then elements) < map.

BSON values of Enterprise databases (maps with a single reserved key such as ``__int__``) take their place in
that order too: MinKey before everything, MaxKey after everything, Int32 and Decimal128 among the numbers.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Iterable
from typing import Any

from google.cloud.firestore_v1.types import document as document_types
from google.protobuf import timestamp_pb2

from .errors import invalid
from .names import reference_key

Value = document_types.Value.pb()
MapValue = document_types.MapValue.pb()
Document = document_types.Document.pb()
Timestamp = timestamp_pb2.Timestamp

Key = tuple[Any, ...]
FieldPath = tuple[str, ...]

# Type ranks (see module docstring); BSON-only types slot in between with fractional ranks.
RANK_MIN_KEY = -1
RANK_NULL = 0
RANK_BOOLEAN = 1
RANK_NAN = 2
RANK_NUMBER = 3
RANK_TIMESTAMP = 4
RANK_BSON_TIMESTAMP = 4.5
RANK_STRING = 5
RANK_OBJECT_ID = 5.5
RANK_BYTES = 6
RANK_REFERENCE = 7
RANK_GEO_POINT = 8
RANK_REGEX = 8.5
RANK_ARRAY = 9
RANK_VECTOR = 10
RANK_MAP = 11
RANK_MAX_KEY = 12

VECTOR_TYPE_KEY = "__type__"
VECTOR_TYPE = "__vector__"
VECTOR_VALUE_KEY = "value"

BSON_REGEX_OPTIONS = frozenset("imsux")
_DECIMAL_SPECIALS = {
    "inf": "Infinity",
    "+inf": "Infinity",
    "infinity": "Infinity",
    "+infinity": "Infinity",
    "-inf": "-Infinity",
    "-infinity": "-Infinity",
}

MAX_DEPTH = 20
"""Firestore refuses maps and arrays nested deeper than 20 levels."""


# --- ordering ---------------------------------------------------------------------------------------------


def sort_key(value: Any) -> Key:  # noqa: PLR0911 - one return per value type reads best
    """A tuple that orders and compares like the Firestore value ``value``."""
    kind = value.WhichOneof("value_type")
    if kind == "integer_value":
        return (RANK_NUMBER, value.integer_value)
    if kind == "string_value":
        return (RANK_STRING, value.string_value)
    if kind == "double_value":
        number = value.double_value
        return (RANK_NAN,) if math.isnan(number) else (RANK_NUMBER, number)
    if kind == "boolean_value":
        return (RANK_BOOLEAN, value.boolean_value)
    if kind == "null_value" or kind is None:
        return (RANK_NULL,)
    if kind == "timestamp_value":
        return (RANK_TIMESTAMP, value.timestamp_value.seconds, value.timestamp_value.nanos)
    if kind == "map_value":
        return _map_key(value.map_value)
    if kind == "array_value":
        return (RANK_ARRAY, tuple(sort_key(v) for v in value.array_value.values))
    if kind == "reference_value":
        return (RANK_REFERENCE, reference_key(value.reference_value))
    if kind == "bytes_value":
        return (RANK_BYTES, value.bytes_value)
    if kind == "geo_point_value":
        return (RANK_GEO_POINT, value.geo_point_value.latitude, value.geo_point_value.longitude)
    raise invalid(f"Value type {kind} is not supported in documents or queries.")


def _map_key(map_value: Any) -> Key:
    fields = map_value.fields
    if len(fields) == 1:
        special = _bson_key(fields)
        if special is not None:
            return special
    elif len(fields) == 2 and VECTOR_TYPE_KEY in fields:
        vector = vector_elements(map_value)
        if vector is not None:
            return (RANK_VECTOR, len(vector), tuple(vector))
    return (RANK_MAP, tuple((name, sort_key(fields[name])) for name in sorted(fields)))


def _bson_key(fields: Any) -> Key | None:  # noqa: PLR0911 - one return per BSON type
    (name,) = fields.keys()
    if not (name.startswith("__") and name.endswith("__")):
        return None
    inner = fields[name]
    if name == "__min__":
        return (RANK_MIN_KEY,)
    if name == "__max__":
        return (RANK_MAX_KEY,)
    if name == "__int__" and inner.WhichOneof("value_type") == "integer_value":
        return (RANK_NUMBER, inner.integer_value)
    if name == "__decimal128__" and inner.WhichOneof("value_type") == "string_value":
        try:
            number = decimal.Decimal(inner.string_value)
        except decimal.InvalidOperation:
            return None
        return (RANK_NAN,) if number.is_nan() else (RANK_NUMBER, number)
    if name == "__oid__":
        return (RANK_OBJECT_ID, sort_key(inner))
    if name == "__request_timestamp__":
        return (RANK_BSON_TIMESTAMP, sort_key(inner))
    if name == "__regex__":
        return (RANK_REGEX, sort_key(inner))
    if name == "__binary__":
        return (RANK_BYTES, inner.bytes_value)
    return None


# --- kinds of values ----------------------------------------------------------------------------------------


def is_nan(value: Any) -> bool:
    return value.WhichOneof("value_type") == "double_value" and math.isnan(value.double_value)


def is_number(value: Any) -> bool:
    return value.WhichOneof("value_type") in ("integer_value", "double_value")


def number_of(value: Any) -> int | float:
    if value.WhichOneof("value_type") == "integer_value":
        return int(value.integer_value)
    return float(value.double_value)


def vector_elements(map_value: Any) -> list[float] | None:
    """The elements of a vector value (a map ``{__type__: "__vector__", value: [doubles]}``), else None."""
    fields = map_value.fields
    if VECTOR_TYPE_KEY not in fields or VECTOR_VALUE_KEY not in fields or len(fields) != 2:
        return None
    marker = fields[VECTOR_TYPE_KEY]
    if marker.WhichOneof("value_type") != "string_value" or marker.string_value != VECTOR_TYPE:
        return None
    array = fields[VECTOR_VALUE_KEY]
    if array.WhichOneof("value_type") != "array_value":
        return None
    elements: list[float] = []
    for element in array.array_value.values:
        if not is_number(element):
            return None
        elements.append(float(number_of(element)))
    return elements


def value_vector(value: Any) -> list[float] | None:
    if value is None or value.WhichOneof("value_type") != "map_value":
        return None
    return vector_elements(value.map_value)


def int_value(number: int) -> Any:
    result = Value()
    result.integer_value = number
    return result


def double_value(number: float) -> Any:
    result = Value()
    result.double_value = number
    return result


def null_value() -> Any:
    result = Value()
    result.null_value = 0
    return result


def timestamp_value(micros: int) -> Any:
    result = Value()
    result.timestamp_value.seconds, rest = divmod(micros, 1_000_000)
    result.timestamp_value.nanos = rest * 1000
    return result


# --- timestamps -----------------------------------------------------------------------------------------------


def timestamp_from_micros(micros: int) -> Any:
    seconds, rest = divmod(micros, 1_000_000)
    return Timestamp(seconds=seconds, nanos=rest * 1000)


def micros_from_timestamp(ts: Any) -> int:
    """Timestamps are kept at microsecond precision, as Firestore does."""
    return int(ts.seconds) * 1_000_000 + int(ts.nanos) // 1000


# --- field paths -------------------------------------------------------------------------------------------------


def parse_field_path(text: str) -> FieldPath:
    """``a.b``, ``a.`b.c```, ``__name__`` → segments; backticks quote, a backslash escapes inside them."""
    if not text:
        raise invalid("Field path must not be empty.")
    segments: list[str] = []
    current: list[str] = []
    quoted = False
    index = 0
    while index < len(text):
        char = text[index]
        if quoted:
            if char == "\\" and index + 1 < len(text):
                index += 1
                current.append(text[index])
            elif char == "`":
                quoted = False
            else:
                current.append(char)
        elif char == "`":
            quoted = True
        elif char == ".":
            if not current:
                raise invalid(f'Invalid field path "{text}": empty segment.')
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    if quoted:
        raise invalid(f'Invalid field path "{text}": unterminated backtick.')
    if not current:
        raise invalid(f'Invalid field path "{text}": empty segment.')
    segments.append("".join(current))
    return tuple(segments)


def get_field(fields: Any, path: FieldPath) -> Any | None:
    """The value at ``path`` in a protobuf fields map, or None when absent (never inserts)."""
    current = fields
    last = len(path) - 1
    for index, segment in enumerate(path):
        if segment not in current:
            return None
        value = current[segment]
        if index == last:
            return value
        if value.WhichOneof("value_type") != "map_value":
            return None
        current = value.map_value.fields
    return None


def set_field(fields: Any, path: FieldPath, value: Any) -> None:
    """Set ``path`` to ``value``, turning non-map intermediate values into maps."""
    current = fields
    for segment in path[:-1]:
        child = current[segment]
        if child.WhichOneof("value_type") != "map_value":
            child.map_value.SetInParent()
            child.map_value.fields.clear()
        current = child.map_value.fields
    current[path[-1]].CopyFrom(value)


def delete_field(fields: Any, path: FieldPath) -> None:
    current = fields
    for segment in path[:-1]:
        if segment not in current:
            return
        child = current[segment]
        if child.WhichOneof("value_type") != "map_value":
            return
        current = child.map_value.fields
    if path[-1] in current:
        del current[path[-1]]


def project_fields(source: Any, target: Any, paths: Iterable[FieldPath]) -> None:
    """Copy only ``paths`` (and what lies below them) from fields map ``source`` into ``target``."""
    for path in paths:
        value = get_field(source, path)
        if value is not None:
            set_field(target, path, value)


# --- validation of written values --------------------------------------------------------------------------------


def check_value(value: Any, depth: int = 0) -> None:
    """Refuse what Firestore refuses in documents and normalise BSON decimals as Firestore stores them."""
    if depth > MAX_DEPTH:
        raise invalid("Value is nested too deeply: maps and arrays may nest at most 20 levels.")
    kind = value.WhichOneof("value_type")
    if kind is None:
        raise invalid("A value must have a type.")
    if kind in ("field_reference_value", "variable_reference_value", "function_value", "pipeline_value"):
        raise invalid(f"{kind} is only allowed in pipelines, not in documents.")
    if kind == "array_value":
        for element in value.array_value.values:
            if element.WhichOneof("value_type") == "array_value":
                raise invalid("Cannot have an array value directly inside another array value.")
            check_value(element, depth + 1)
    elif kind == "map_value":
        check_fields(value.map_value.fields, depth + 1)
    elif kind == "reference_value":
        ref = reference_key(value.reference_value)
        if len(ref) < 4 or len(ref) % 2:
            raise invalid(f'Invalid reference value "{value.reference_value}".')
    elif kind == "geo_point_value":
        point = value.geo_point_value
        if not (-90 <= point.latitude <= 90 and -180 <= point.longitude <= 180):
            raise invalid("GeoPoint latitude must be in [-90, 90] and longitude in [-180, 180].")


def check_fields(fields: Any, depth: int = 0) -> None:
    if len(fields) == 1:
        _check_bson(fields)
    for name in fields:
        if not name:
            raise invalid("Field names must not be empty.")
        check_value(fields[name], depth)


def _check_bson(fields: Any) -> None:
    (name,) = fields.keys()
    inner = fields[name]
    if name == "__regex__" and inner.WhichOneof("value_type") == "map_value":
        options = inner.map_value.fields.get("options")
        if options is not None and set(options.string_value) - BSON_REGEX_OPTIONS:
            raise invalid(f"Invalid regex option in '{options.string_value}': supported options are i, m, s, u, x.")
    elif name == "__decimal128__" and inner.WhichOneof("value_type") == "string_value":
        text = inner.string_value
        normal = _DECIMAL_SPECIALS.get(text.lower())
        if normal is not None:
            inner.string_value = normal
        elif text.lower() in ("nan", "+nan", "-nan"):
            inner.string_value = "NaN"
