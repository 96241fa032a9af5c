"""Index enforcement: refuse, as Firestore does, a query that no declared or automatic index can serve.

Loaded from an index file in the format of ``firestore.indexes.json`` (``indexes`` and ``fieldOverrides``). A query
is served when one of these holds, for each disjunct of its filter (an OR query is served disjunct by disjunct):

* it has no filter and no order but ``__name__`` (the built-in ``__name__`` index, any scope);
* it has only equality (``==``, ``in``, is null/NaN) and ``array-contains(-any)`` filters: each field has its
  single-field index in the query's scope (ascending or descending as the ``__name__`` order goes; CONTAINS for
  arrays) — index merging —, or a set of composite indexes that together cover those fields does;
* it orders (explicitly, or implicitly by an inequality) on exactly one field, has no other filter, and that field has
  its single-field index in that direction with ``__name__`` in the same direction;
* otherwise: composite indexes of the query's collection group and scope, each made of some of the equality/contains
  fields (any order) followed by exactly the query's sort fields (explicit orders, then inequality fields by path) and
  ``__name__`` in the last field's direction, together cover every equality/contains field (one index when there is
  none);
* ``find_nearest``: a composite index made of the filter fields followed by a vector field of the query vector's
  dimension.

Automatic single-field indexes have collection scope only (ascending, descending, array-contains); a
``fieldOverrides`` entry replaces them for its field (and the subfields of a map) with exactly the indexes it lists.
Orders on fields that an equality filter fixes do not count; filters on ``__name__`` need no index. The sources of each
rule are cited in README.md.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.cloud.firestore_admin_v1.types import field as field_types
from google.cloud.firestore_admin_v1.types import index as index_types

from .errors import FirestoreError, failed_precondition
from .names import DbKey
from .query import NAME, CompositeOperator, Operator, UnaryOperator, _orders
from .values import FieldPath, parse_field_path, value_vector

ASC, DESC, CONTAINS, VECTOR = "ASCENDING", "DESCENDING", "CONTAINS", "VECTOR"
COLLECTION, COLLECTION_GROUP = "COLLECTION", "COLLECTION_GROUP"
CONSOLE = "https://console.firebase.google.com/v1/r/project"
MAX_DISJUNCTS = 100  # Firestore allows 30 after normalisation; beyond this the check gives up (the query is refused)

_EQUALITY = {Operator.EQUAL, Operator.IN}
_CONTAINS = {Operator.ARRAY_CONTAINS, Operator.ARRAY_CONTAINS_ANY}
_UNARY_EQUALITY = {UnaryOperator.IS_NULL, UnaryOperator.IS_NAN}
Term = tuple[FieldPath, str]  # (field, "eq" | "contains" | "ineq")


@dataclass(frozen=True)
class IndexField:
    path: FieldPath
    mode: str  # ASCENDING, DESCENDING, CONTAINS or VECTOR
    dimension: int = 0


@dataclass(frozen=True)
class Composite:
    group: str
    scope: str
    fields: tuple[IndexField, ...]  # without the trailing __name__
    name_descending: bool


class IndexFileError(ValueError):
    """The index file cannot be read as firestore.indexes.json."""


class Indexes:
    """The declared composite indexes and single-field overrides of one index file."""

    def __init__(self, spec: dict[str, Any], source: str = "") -> None:
        self.source = source
        try:
            self.composites = [_composite(item) for item in spec.get("indexes", [])]
            self.overrides = dict(_override(item) for item in spec.get("fieldOverrides", []))
        except (KeyError, TypeError, ValueError, FirestoreError) as error:
            raise IndexFileError(f"{source or 'index file'}: {error}") from error

    @classmethod
    def load(cls, path: str | Path) -> Indexes:
        try:
            spec = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            raise IndexFileError(f"{path}: {error}") from error
        return cls(spec, str(path))

    # --- the check -----------------------------------------------------------------------------------------

    def check(
        self,
        db_key: DbKey,
        collection_id: str,
        all_descendants: bool,
        query: Any,
        index_fields: Iterable[FieldPath] = (),
    ) -> None:
        """Raise FAILED_PRECONDITION (with the index to create) unless the query can be served."""
        if not collection_id:
            return  # kindless queries (recursive deletes) read the built-in __name__ index
        scope = COLLECTION_GROUP if all_descendants else COLLECTION
        disjuncts = _disjuncts(query.where) if query.HasField("where") else [[]]
        if query.HasField("find_nearest"):
            for terms in disjuncts:
                self._check_vector(db_key, collection_id, scope, terms, query.find_nearest)
            return
        orders = _orders(query, list(index_fields))
        name_descending = orders[-1].descending
        sort = [(o.path, o.descending) for o in orders[:-1]]
        for terms in disjuncts:
            self._check_terms(db_key, collection_id, scope, terms, sort=sort, name_descending=name_descending)

    def single_field(self, group: str, path: FieldPath, scope: str, mode: str) -> bool:
        """Whether the single-field index (path, mode) of that scope exists (automatic unless overridden)."""
        for length in range(len(path), 0, -1):  # a map's override applies to its subfields
            modes = self.overrides.get((group, path[:length]))
            if modes is not None:
                return (scope, mode) in modes
        return scope == COLLECTION and mode in (ASC, DESC, CONTAINS)

    def _check_terms(
        self,
        db_key: DbKey,
        group: str,
        scope: str,
        terms: list[Term],
        *,
        sort: list[tuple[FieldPath, bool]],
        name_descending: bool,
    ) -> None:
        equal = _unique(path for path, kind in terms if kind == "eq" and path != NAME)
        contains = _unique(path for path, kind in terms if kind == "contains" and path != NAME)
        suffix = [(path, descending) for path, descending in sort if path not in equal]
        if not equal and not contains and not suffix:
            return
        if not suffix:
            direction = DESC if name_descending else ASC
            missing = [(p, direction) for p in equal if not self.single_field(group, p, scope, direction)]
            missing += [
                (p, CONTAINS) for p in contains if name_descending or not self.single_field(group, p, scope, CONTAINS)
            ]
            if not missing or self._covered(
                group, scope, equal, contains, suffix=suffix, name_descending=name_descending
            ):
                return
            if len(missing) == 1 and (len(equal) + len(contains) == 1 or missing[0][1] != CONTAINS):
                raise _single_field_error(db_key, group, scope, *missing[0])
        elif not equal and not contains and len(suffix) == 1:
            path, descending = suffix[0]
            direction = DESC if descending else ASC
            if descending == name_descending:
                if self.single_field(group, path, scope, direction):
                    return
                raise _single_field_error(db_key, group, scope, path, direction)
            if self._covered(group, scope, equal, contains, suffix=suffix, name_descending=name_descending):
                return
        elif self._covered(group, scope, equal, contains, suffix=suffix, name_descending=name_descending):
            return
        wanted = [IndexField(p, ASC) for p in equal] + [IndexField(p, CONTAINS) for p in contains]
        wanted += [IndexField(p, DESC if d else ASC) for p, d in suffix]
        raise _composite_error(db_key, Composite(group, scope, tuple(wanted), name_descending))

    def _covered(
        self,
        group: str,
        scope: str,
        equal: list[FieldPath],
        contains: list[FieldPath],
        *,
        suffix: list[tuple[FieldPath, bool]],
        name_descending: bool,
    ) -> bool:
        """Whether composite indexes of the form (some equality/contains fields) + suffix + __name__ cover them all."""
        covered: set[FieldPath] = set()
        matched = False
        for index in self.composites:
            if index.group != group or index.scope != scope or index.name_descending != name_descending:
                continue
            head_length = len(index.fields) - len(suffix)
            if head_length < 0:
                continue
            tail = index.fields[head_length:]
            if [(f.path, f.mode == DESC) for f in tail] != suffix or any(f.mode not in (ASC, DESC) for f in tail):
                continue
            head = index.fields[:head_length]
            if all(
                (f.path in equal and f.mode in (ASC, DESC)) or (f.path in contains and f.mode == CONTAINS) for f in head
            ):
                matched = True
                covered.update(f.path for f in head)
        return matched and covered >= {*equal, *contains}

    def _check_vector(self, db_key: DbKey, group: str, scope: str, terms: list[Term], nearest: Any) -> None:
        path = parse_field_path(nearest.vector_field.field_path)
        dimension = len(value_vector(nearest.query_vector) or [])
        filters = {(p, "contains" if kind == "contains" else "order") for p, kind in terms if p != NAME}
        for index in self.composites:
            if index.group != group or index.scope != scope or not index.fields:
                continue
            last = index.fields[-1]
            if last.mode != VECTOR or last.path != path or last.dimension != dimension:
                continue
            head = {(f.path, "contains" if f.mode == CONTAINS else "order") for f in index.fields[:-1]}
            if head == filters:
                return
        wanted = [IndexField(p, CONTAINS if kind == "contains" else ASC) for p, kind in sorted(filters)]
        raise _vector_error(db_key, group, scope, [*wanted, IndexField(path, VECTOR, dimension)])


# --- reading the index file ----------------------------------------------------------------------------------


def _composite(item: dict[str, Any]) -> Composite:
    scope = item.get("queryScope", COLLECTION)
    if scope not in (COLLECTION, COLLECTION_GROUP):
        raise ValueError(f"unknown queryScope {scope!r}")
    fields = [_index_field(f) for f in item["fields"]]
    name_descending = False
    if fields and fields[-1].path == NAME:
        name_descending = fields.pop().mode == DESC
    elif fields:
        name_descending = fields[-1].mode == DESC  # a non-directional last field: __name__ ascending
    return Composite(str(item["collectionGroup"]), scope, tuple(fields), name_descending)


def _index_field(item: dict[str, Any]) -> IndexField:
    path = parse_field_path(item["fieldPath"])
    if "order" in item:
        if item["order"] not in (ASC, DESC):
            raise ValueError(f"unknown order {item['order']!r}")
        return IndexField(path, item["order"])
    if item.get("arrayConfig") == CONTAINS:
        return IndexField(path, CONTAINS)
    if "vectorConfig" in item:
        return IndexField(path, VECTOR, int(item["vectorConfig"]["dimension"]))
    raise ValueError(f"field {item['fieldPath']!r} needs an order, arrayConfig or vectorConfig")


def _override(item: dict[str, Any]) -> tuple[tuple[str, FieldPath], frozenset[tuple[str, str]]]:
    modes = set()
    for index in item.get("indexes", []):
        mode = index.get("order") or index.get("arrayConfig")
        if mode not in (ASC, DESC, CONTAINS):
            raise ValueError(f"override of {item['fieldPath']!r}: an index needs an order or arrayConfig")
        modes.add((index.get("queryScope", COLLECTION), mode))
    return (str(item["collectionGroup"]), parse_field_path(item["fieldPath"])), frozenset(modes)


# --- the query's filters in disjunctive normal form ----------------------------------------------------------


def _disjuncts(spec: Any) -> list[list[Term]]:
    kind = spec.WhichOneof("filter_type")
    if kind == "composite_filter":
        parts = [_disjuncts(f) for f in spec.composite_filter.filters]
        if spec.composite_filter.op == CompositeOperator.OR:
            return [terms for part in parts for terms in part]
        result: list[list[Term]] = [[]]
        for part in parts:
            result = [a + b for a in result for b in part]
            if len(result) > MAX_DISJUNCTS:
                raise failed_precondition("The query is too complex to be served by any index.")
        return result
    if kind == "field_filter":
        op = spec.field_filter.op
        term = "eq" if op in _EQUALITY else "contains" if op in _CONTAINS else "ineq"
        return [[(parse_field_path(spec.field_filter.field.field_path), term)]]
    if kind == "unary_filter":
        term = "eq" if spec.unary_filter.op in _UNARY_EQUALITY else "ineq"
        return [[(parse_field_path(spec.unary_filter.field.field_path), term)]]
    return [[]]


def _unique(paths: Iterable[FieldPath]) -> list[FieldPath]:
    return list(dict.fromkeys(paths))


# --- the errors, as Firestore words them ---------------------------------------------------------------------


def render_path(path: FieldPath) -> str:
    """A field path as Firestore writes it (segments that are not simple names in backticks)."""
    return ".".join(s if s.isidentifier() else "`" + s.replace("\\", "\\\\").replace("`", "\\`") + "`" for s in path)


def _console(db_key: DbKey) -> str:
    project, database = db_key
    where = "" if database == "(default)" else f"/databases/{database}"
    return f"{CONSOLE}/{project}/firestore{where}/indexes"


def _composite_error(db_key: DbKey, index: Composite) -> FirestoreError:
    project, database = db_key
    Index = index_types.Index
    name_order = Index.IndexField.Order.DESCENDING if index.name_descending else Index.IndexField.Order.ASCENDING
    proto = Index(
        name=f"projects/{project}/databases/{database}/collectionGroups/{index.group}/indexes/_",
        query_scope=Index.QueryScope[index.scope],
        fields=[*(_proto_field(f) for f in index.fields), Index.IndexField(field_path="__name__", order=name_order)],
    )
    link = base64.b64encode(Index.serialize(proto)).decode()
    return failed_precondition(
        f"The query requires an index. You can create it here: {_console(db_key)}?create_composite={link} "
        f"(emulator: add to the index file: {json.dumps(_declaration(index), separators=(',', ':'))})"
    )


def _single_field_error(db_key: DbKey, group: str, scope: str, path: FieldPath, mode: str) -> FirestoreError:
    project, database = db_key
    Index = index_types.Index
    field = _proto_field(IndexField(path, mode))
    proto = field_types.Field(
        name=f"projects/{project}/databases/{database}/collectionGroups/{group}/fields/{render_path(path)}",
        index_config=field_types.Field.IndexConfig(
            indexes=[Index(query_scope=Index.QueryScope[scope], fields=[field])]
        ),
    )
    link = base64.b64encode(field_types.Field.serialize(proto)).decode()
    kind = {ASC: "ASC", DESC: "DESC", CONTAINS: "ARRAY_CONTAINS"}[mode]
    declaration = {"order": mode} if mode != CONTAINS else {"arrayConfig": CONTAINS}
    indexes = [{**declaration, "queryScope": scope}]
    override = {"collectionGroup": group, "fieldPath": render_path(path), "indexes": indexes}
    return failed_precondition(
        f"The query requires a {scope}_{kind} index for collection {group} and field {render_path(path)}. "
        f"You can create it here: {_console(db_key)}?create_exemption={link} "
        f"(emulator: add to fieldOverrides: {json.dumps(override, separators=(',', ':'))})"
    )


def _vector_error(db_key: DbKey, group: str, scope: str, fields: list[IndexField]) -> FirestoreError:
    configs = []
    for f in fields:
        if f.mode == VECTOR:
            config = f'vector-config=\'{{"dimension":"{f.dimension}","flat": "{{}}"}}\''
        elif f.mode == CONTAINS:
            config = "array-config=contains"
        else:
            config = f"order={f.mode}"
        configs.append(f"--field-config={config},field-path={render_path(f.path)}")
    command = (
        f"gcloud firestore indexes composite create --project={db_key[0]} --collection-group={group} "
        f"--query-scope={scope} {' '.join(configs)}"
    )
    if db_key[1] != "(default)":
        command += f" --database={db_key[1]}"
    return failed_precondition(
        f"Missing vector index configuration. Please create the required index with the following gcloud command: "
        f"{command}"
    )


def _proto_field(f: IndexField) -> Any:
    IndexField_ = index_types.Index.IndexField
    if f.mode == CONTAINS:
        return IndexField_(field_path=render_path(f.path), array_config=IndexField_.ArrayConfig.CONTAINS)
    return IndexField_(field_path=render_path(f.path), order=IndexField_.Order[f.mode])


def _declaration(index: Composite) -> dict[str, Any]:
    fields: list[dict[str, Any]] = []
    for f in index.fields:
        entry: dict[str, Any] = {"fieldPath": render_path(f.path)}
        entry.update({"arrayConfig": CONTAINS} if f.mode == CONTAINS else {"order": f.mode})
        fields.append(entry)
    if index.fields and index.name_descending != (index.fields[-1].mode == DESC):
        fields.append({"fieldPath": "__name__", "order": DESC if index.name_descending else ASC})
    return {"collectionGroup": index.group, "queryScope": index.scope, "fields": fields}
