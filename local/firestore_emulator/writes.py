"""Applying ``Write`` messages: set, merge and update masks, preconditions, transforms and deletes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.cloud.firestore_v1.types import write as write_types

from .errors import already_exists, failed_precondition, invalid, not_found
from .names import DbKey, check_writable_path, split_document
from .store import Database
from .values import (
    Document,
    MapValue,
    Value,
    check_fields,
    check_value,
    delete_field,
    double_value,
    get_field,
    int_value,
    is_nan,
    is_number,
    micros_from_timestamp,
    null_value,
    number_of,
    parse_field_path,
    set_field,
    sort_key,
    timestamp_from_micros,
    timestamp_value,
)

WriteResult = write_types.WriteResult.pb()
REQUEST_TIME = write_types.DocumentTransform.FieldTransform.ServerValue.REQUEST_TIME

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
MAX_DOCUMENT_BYTES = 1_048_576


@dataclass
class Batch:
    """The documents of one commit as its writes change them, before they are stored."""

    db: Database
    commit_time: int
    pending: dict[str, Any | None] = field(default_factory=dict)
    """Path → the document after this commit's writes so far (None: deleted/missing)."""
    changed: dict[str, Any | None] = field(default_factory=dict)
    writes: int = 0
    deletes: int = 0

    def current(self, path: str) -> Any | None:
        if path in self.pending:
            return self.pending[path]
        version = self.db.get(path)
        return None if version is None else version.doc

    def changes(self) -> list[tuple[str, Any | None]]:
        return list(self.changed.items())


def write_target(db: DbKey, write: Any) -> tuple[str, str]:
    """The full name and the relative path of the document a Write touches (validated)."""
    operation = write.WhichOneof("operation")
    if operation == "update":
        name = write.update.name
    elif operation == "delete":
        name = write.delete
    elif operation == "transform":
        name = write.transform.document
    else:
        raise invalid("A write must be an update, a delete or a transform.")
    _, path = split_document(name, db)
    return name, path


def write_path(db: DbKey, write: Any) -> str:
    """The relative path of the document a Write touches (validated)."""
    return write_target(db, write)[1]


def apply_write(batch: Batch, write: Any) -> Any:
    """Apply one write to ``batch``; returns its WriteResult. Raises FirestoreError when a precondition fails."""
    operation = write.WhichOneof("operation")
    name, path = write_target(batch.db.key, write)
    old = batch.current(path)
    if write.HasField("current_document"):
        _check_precondition(write.current_document, old, name, batch.commit_time)
    result = WriteResult()
    if operation == "delete":
        if write.update_transforms or write.HasField("update_mask"):
            raise invalid("A delete cannot have an update mask or transforms.")
        batch.deletes += 1
        if old is not None:
            batch.pending[path] = batch.changed[path] = None
        return result

    check_writable_path(name, path)
    if operation == "update":
        fields = _updated_fields(write, old)
        transforms = list(write.update_transforms)
    else:
        fields = _copy_fields(old)
        transforms = list(write.transform.field_transforms)
        if write.update_transforms:
            raise invalid("A transform write cannot also have update_transforms.")
    for transform in transforms:
        result.transform_results.append(_apply_transform(fields, transform, batch.commit_time))

    doc = Document(name=name)
    doc.fields.MergeFrom(fields.fields)
    if old is not None and _same_fields(old, doc):
        result.update_time.CopyFrom(old.update_time)
        batch.writes += 1
        return result
    doc.create_time.CopyFrom(old.create_time if old is not None else timestamp_from_micros(batch.commit_time))
    doc.update_time.CopyFrom(timestamp_from_micros(batch.commit_time))
    if doc.ByteSize() > MAX_DOCUMENT_BYTES:
        raise invalid(f"Document {name} cannot be written because its size exceeds the maximum of 1,048,576 bytes.")
    batch.pending[path] = batch.changed[path] = doc
    batch.writes += 1
    result.update_time.CopyFrom(doc.update_time)
    return result


def _check_precondition(precondition: Any, old: Any | None, name: str, commit_time: int) -> None:
    kind = precondition.WhichOneof("condition_type")
    if kind == "exists":
        if precondition.exists and old is None:
            raise not_found(f"No document to update: {name}")
        if not precondition.exists and old is not None:
            raise already_exists(f"Document already exists: {name}")
    elif kind == "update_time":
        expected = micros_from_timestamp(precondition.update_time)
        if expected > commit_time:
            raise invalid(f"The update_time precondition of {name} is in the future.")
        if old is None:
            raise not_found(f"No document to update: {name}")
        if micros_from_timestamp(old.update_time) != expected:
            raise failed_precondition(f"The update_time precondition of {name} does not match the document.")


def _copy_fields(doc: Any | None) -> Any:
    """A MapValue holding a copy of the document's fields (empty for no document)."""
    result = MapValue()
    if doc is not None:
        result.fields.MergeFrom(doc.fields)
    return result


def _updated_fields(write: Any, old: Any | None) -> Any:
    check_fields(write.update.fields)
    if not write.HasField("update_mask"):
        result = MapValue()
        result.fields.MergeFrom(write.update.fields)
        return result
    result = _copy_fields(old)
    for text in write.update_mask.field_paths:
        path = parse_field_path(text)
        value = get_field(write.update.fields, path)
        if value is None:
            delete_field(result.fields, path)
        else:
            set_field(result.fields, path, value)
    return result


def _same_fields(old: Any, new: Any) -> bool:
    return bool(old.fields == new.fields)


def _apply_transform(fields: Any, transform: Any, commit_time: int) -> Any:
    path = parse_field_path(transform.field_path)
    kind = transform.WhichOneof("transform_type")
    current = get_field(fields.fields, path)
    if kind == "set_to_server_value":
        if transform.set_to_server_value != REQUEST_TIME:
            raise invalid("The only supported server value is REQUEST_TIME.")
        value = timestamp_value(commit_time)
        set_field(fields.fields, path, value)
        return value
    if kind in ("increment", "maximum", "minimum"):
        operand = getattr(transform, kind)
        if not is_number(operand):
            raise invalid(f"The {kind} transform of {transform.field_path} needs a number.")
        value = _numeric(kind, current, operand)
        set_field(fields.fields, path, value)
        return value
    if kind in ("append_missing_elements", "remove_all_from_array"):
        for element in getattr(transform, kind).values:
            check_value(element)
        value = _array(kind, current, getattr(transform, kind).values)
        set_field(fields.fields, path, value)
        return null_value()
    raise invalid(f"Unsupported field transform {kind}.")


def _numeric(kind: str, current: Any | None, operand: Any) -> Any:
    """increment, maximum or minimum of the current value (the operand alone when that is not a number)."""
    if current is None or not is_number(current):
        return operand
    if kind == "increment":
        return _increment(current, operand)
    if is_nan(current) or is_nan(operand):
        return current if is_nan(current) else operand
    a, b = number_of(current), number_of(operand)
    if a == b:  # 3 and 3.0, 0 and -0.0: the stored value stays
        return current
    larger = operand if b > a else current
    smaller = operand if b < a else current
    return larger if kind == "maximum" else smaller


def _increment(current: Any, operand: Any) -> Any:
    """Integers stay integers (saturating at the int64 bounds); any double makes a double."""
    a, b = number_of(current), number_of(operand)
    if isinstance(a, int) and isinstance(b, int):
        return int_value(min(INT64_MAX, max(INT64_MIN, a + b)))
    return double_value(float(a) + float(b))


def _array(kind: str, current: Any | None, elements: Any) -> Any:
    existing = list(current.array_value.values) if current is not None and current.HasField("array_value") else []
    result = Value()
    result.array_value.SetInParent()
    if kind == "append_missing_elements":
        keys = [sort_key(v) for v in existing]
        result.array_value.values.extend(existing)
        for element in elements:
            key = sort_key(element)
            if key not in keys:
                keys.append(key)
                result.array_value.values.append(element)
    else:
        removed = {sort_key(v) for v in elements}
        result.array_value.values.extend(v for v in existing if sort_key(v) not in removed)
    return result
