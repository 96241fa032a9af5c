"""The ``google.firestore.v1.Firestore`` RPCs over the store, the locks and the query engine."""

from __future__ import annotations

import base64
import os
import string
import time
from dataclasses import dataclass
from typing import Any

from google.cloud.firestore_v1.types import common as common_types
from google.cloud.firestore_v1.types import firestore as fs
from google.cloud.firestore_v1.types import query_profile as profile_types
from google.cloud.firestore_v1.types import write as write_types
from google.protobuf import empty_pb2

from .errors import FirestoreError, failed_precondition, invalid, not_found
from .names import (
    DbKey,
    check_writable_path,
    document_name,
    parse_database,
    path_key,
    split_document,
    split_parent,
)
from .query import Query, Row, aggregate, compile_aggregations, compile_query
from .store import HISTORY_SECONDS, Database, Store
from .txn import LockManager, State, Transaction
from .values import Document, micros_from_timestamp, parse_field_path, project_fields, timestamp_from_micros
from .writes import Batch, apply_write, write_path

TransactionOptions = common_types.TransactionOptions
ConcurrencyMode = TransactionOptions.ConcurrencyMode
Write = write_types.Write.pb()
_ID_ALPHABET = string.ascii_letters + string.digits
_QUERY_LOCK_ROUNDS = 5
AGGREGATION_ENTRIES_PER_READ = 1000


@dataclass
class ReadContext:
    """How a read sees the data: at a time, or inside a transaction (locking when read-write)."""

    db: Database
    read_time: int | None
    txn: Transaction | None
    new_transaction: bytes = b""

    @property
    def locking(self) -> bool:
        txn = self.txn
        return txn is not None and not txn.read_only and not txn.optimistic and txn.state is State.ACTIVE


def auto_id() -> str:
    """A 20-character random id, as the client libraries generate."""
    return "".join(_ID_ALPHABET[b % len(_ID_ALPHABET)] for b in os.urandom(20))


class FirestoreService:
    """One instance serves every database; all state lives in the store and the lock manager."""

    def __init__(self, store: Store, locks: LockManager) -> None:
        self.store = store
        self.locks = locks

    # --- helpers ---------------------------------------------------------------------------------------------

    def _check_indexes(self, db_key: DbKey, query: Any, index_fields: list[Any] | None = None) -> None:
        """With an index file loaded, refuse a query that no index can serve (FAILED_PRECONDITION)."""
        indexes = self.store.indexes
        if indexes is not None:
            selector = query.from_[0]
            indexes.check(db_key, selector.collection_id, selector.all_descendants, query, index_fields or [])

    def _read_context(self, db_key: DbKey, request: Any) -> ReadContext:
        """Resolve a request's consistency selector; call with the mutex held."""
        db = self.store.database(db_key)
        selector = request.WhichOneof("consistency_selector")
        if selector == "transaction":
            txn = self.locks.lookup(db_key, request.transaction)
            return ReadContext(db, txn.read_time, txn)
        if selector == "new_transaction":
            txn = self._begin(db_key, request.new_transaction)
            return ReadContext(db, txn.read_time, txn, new_transaction=txn.id)
        if selector == "read_time":
            return ReadContext(db, self._check_read_time(request.read_time), None)
        return ReadContext(db, None, None)

    def _check_read_time(self, timestamp: Any) -> int:
        """A read time in microseconds: not in the future, and within the history kept (an hour)."""
        read_time = micros_from_timestamp(timestamp)
        now = self.store.now()
        if read_time > now:
            raise invalid("read_time must not be in the future.")
        if read_time < now - HISTORY_SECONDS * 1_000_000:
            raise failed_precondition("The requested snapshot version is too old.")
        return read_time

    def _begin(self, db_key: DbKey, options: Any) -> Transaction:
        mode = options.WhichOneof("mode")
        if mode == "read_only":
            read_only = options.read_only
            read_time = self._check_read_time(read_only.read_time) if read_only.HasField("read_time") else None
            return self.locks.begin(db_key, read_only=True, read_time=read_time, retry=b"", optimistic=False)
        read_write = options.read_write
        return self.locks.begin(
            db_key,
            read_only=False,
            read_time=None,
            retry=read_write.retry_transaction,
            optimistic=read_write.concurrency_mode == ConcurrencyMode.OPTIMISTIC,
        )

    def _snapshot_time(self, ctx: ReadContext) -> int:
        return ctx.read_time if ctx.read_time is not None else self.store.now()

    def _lock_read(self, ctx: ReadContext, path: str) -> None:
        """In a read-write transaction: lock the document before reading it (or note its version)."""
        txn = ctx.txn
        if txn is None or txn.read_only:
            return
        if txn.optimistic:
            version = ctx.db.get(path)
            txn.read_versions.setdefault(path, None if version is None else version.time)
        elif txn.state is State.ACTIVE:
            self.locks.lock(txn, (ctx.db.key, path))

    def _enter(self, ctx: ReadContext) -> None:
        if ctx.txn is not None:
            self.locks.enter(ctx.txn)

    def _leave(self, ctx: ReadContext) -> None:
        if ctx.txn is not None:
            self.locks.leave(ctx.txn)

    @staticmethod
    def _masked(doc: Any, mask: Any) -> Any:
        if not mask.field_paths:
            return doc
        result = Document(name=doc.name)
        result.create_time.CopyFrom(doc.create_time)
        result.update_time.CopyFrom(doc.update_time)
        project_fields(doc.fields, result.fields, [parse_field_path(p) for p in mask.field_paths])
        return result

    # --- reads -----------------------------------------------------------------------------------------------

    def get_document(self, request: Any) -> Any:
        db_key, path = split_document(request.name)
        with self.store.mutex:
            ctx = self._read_context(db_key, request)
            self._enter(ctx)
            try:
                self._lock_read(ctx, path)
                version = ctx.db.get(path, ctx.read_time)
                ctx.db.stats.reads += 1
            finally:
                self._leave(ctx)
        if version is None:
            raise not_found(f'Document "{request.name}" not found.')
        return self._masked(version.doc, request.mask)

    def batch_get_documents(self, request: Any) -> list[Any]:
        db_key = parse_database(request.database)
        paths = [split_document(name, db_key)[1] for name in request.documents]
        responses = []
        with self.store.mutex:
            ctx = self._read_context(db_key, request)
            self._enter(ctx)
            try:
                for path in paths:
                    self._lock_read(ctx, path)
                read_time = self._snapshot_time(ctx)
                for name, path in zip(request.documents, paths, strict=True):
                    response = fs.BatchGetDocumentsResponse.pb()()
                    version = ctx.db.get(path, ctx.read_time)
                    if version is None:
                        response.missing = name
                    else:
                        response.found.CopyFrom(self._masked(version.doc, request.mask))
                    response.read_time.CopyFrom(timestamp_from_micros(read_time))
                    responses.append(response)
                ctx.db.stats.reads += len(paths)
            finally:
                self._leave(ctx)
        if ctx.new_transaction:
            responses.insert(0, fs.BatchGetDocumentsResponse.pb()(transaction=ctx.new_transaction))
        return responses

    def _run_locked(self, ctx: ReadContext, query: Query) -> tuple[list[Row], int]:
        """Run a query; in a read-write transaction, lock what it returns (until the result is stable)."""
        rows, skipped = query.run(ctx.db, ctx.read_time)
        if not ctx.locking and not (ctx.txn is not None and ctx.txn.optimistic):
            return rows, skipped
        for _ in range(_QUERY_LOCK_ROUNDS):
            for entry, _version in rows:
                self._lock_read(ctx, entry.path)
            again, skipped = query.run(ctx.db, ctx.read_time)
            if [r[0] for r in again] == [r[0] for r in rows] and all(
                a[1] is b[1] for a, b in zip(again, rows, strict=True)
            ):
                return again, skipped
            rows = again
        return rows, skipped

    def run_query(self, request: Any) -> list[Any]:
        db_key, parent = split_parent(request.parent)
        if request.WhichOneof("query_type") != "structured_query":
            raise invalid("RunQuery needs a structured_query.")
        query = compile_query(parent, request.structured_query)
        self._check_indexes(db_key, request.structured_query)
        explain = request.explain_options if request.HasField("explain_options") else None
        started = time.perf_counter()
        with self.store.mutex:
            ctx = self._read_context(db_key, request)
            self._enter(ctx)
            try:
                rows: list[Row] = []
                skipped = 0
                if explain is None or explain.analyze:
                    rows, skipped = self._run_locked(ctx, query)
                    ctx.db.stats.reads += max(1, len(rows) + skipped)
                read_time = timestamp_from_micros(self._snapshot_time(ctx))
                documents = [query.render(row) for row in rows]
            finally:
                self._leave(ctx)
        response_type = fs.RunQueryResponse.pb()
        first = response_type(read_time=read_time, skipped_results=skipped)
        if ctx.new_transaction:
            first.transaction = ctx.new_transaction
        if documents:
            first.document.CopyFrom(documents[0])
        responses = [first, *(response_type(document=doc, read_time=read_time) for doc in documents[1:])]
        if explain is not None:
            metrics = _explain_metrics(explain.analyze, len(documents), skipped, started)
            responses.append(response_type(read_time=read_time, explain_metrics=metrics))
        return responses

    def run_aggregation_query(self, request: Any) -> list[Any]:
        db_key, parent = split_parent(request.parent)
        if request.WhichOneof("query_type") != "structured_aggregation_query":
            raise invalid("RunAggregationQuery needs a structured_aggregation_query.")
        spec = request.structured_aggregation_query
        aggregations = compile_aggregations(spec.aggregations)
        # Under a limit, which documents count depends on the index Firestore scans: that of the summed fields.
        inner = spec.structured_query
        index_fields = [a.path for a in aggregations if a.path is not None] if inner.HasField("limit") else []
        query = compile_query(parent, inner, index_fields)
        self._check_indexes(db_key, inner, index_fields)
        explain = request.explain_options if request.HasField("explain_options") else None
        started = time.perf_counter()
        response = fs.RunAggregationQueryResponse.pb()()
        with self.store.mutex:
            ctx = self._read_context(db_key, request)
            self._enter(ctx)
            try:
                if explain is None or explain.analyze:
                    rows, _ = self._run_locked(ctx, query)
                    ctx.db.stats.reads += max(1, -(-len(rows) // AGGREGATION_ENTRIES_PER_READ))
                    for aggregation in aggregations:
                        response.result.aggregate_fields[aggregation.alias].CopyFrom(aggregate(aggregation, rows))
                response.read_time.CopyFrom(timestamp_from_micros(self._snapshot_time(ctx)))
            finally:
                self._leave(ctx)
        if ctx.new_transaction:
            response.transaction = ctx.new_transaction
        if explain is not None:
            response.explain_metrics.CopyFrom(_explain_metrics(explain.analyze, 1, 0, started))
        return [response]

    def list_documents(self, request: Any) -> Any:
        db_key, parent = split_parent(request.parent)
        if not request.collection_id or "/" in request.collection_id:
            raise invalid("ListDocuments needs a collection id.")
        collection = f"{parent}/{request.collection_id}" if parent else request.collection_id
        if request.page_size < 0:
            raise invalid("page_size must be non-negative.")
        after = _decode_token(request.page_token)
        with self.store.mutex:
            ctx = self._read_context(db_key, request)
            entries = ctx.db.collections.get(collection, {})
            found = {path: v for path, e in entries.items() if (v := e.at(ctx.read_time)) is not None}
            names = set(found)
            if request.show_missing:
                prefix = collection + "/"
                depth = collection.count("/") + 2
                for path, entry in ctx.db.entries.items():
                    if path.startswith(prefix) and path.count("/") >= depth and entry.at(ctx.read_time) is not None:
                        names.add("/".join(path.split("/")[:depth]))
            after_key = None if after is None else path_key(after)
            ordered = sorted((p for p in names if after_key is None or path_key(p) > after_key), key=path_key)
            page = ordered[: request.page_size] if request.page_size else ordered
            response = fs.ListDocumentsResponse.pb()()
            for path in page:
                version = found.get(path)
                if version is None:
                    response.documents.add(name=document_name(db_key, path))
                else:
                    response.documents.append(self._masked(version.doc, request.mask))
            if len(page) < len(ordered):
                response.next_page_token = _encode_token(page[-1])
            ctx.db.stats.reads += max(1, len(page))
        return response

    def list_collection_ids(self, request: Any) -> Any:
        db_key, parent = split_parent(request.parent)
        after = _decode_token(request.page_token)
        with self.store.mutex:
            ctx = self._read_context(db_key, request)
            prefix = parent + "/" if parent else ""
            depth = parent.count("/") + 1 if parent else 0
            ids: set[str] = set()
            for path, entry in ctx.db.entries.items():
                if path.startswith(prefix) and entry.at(ctx.read_time) is not None:
                    ids.add(path.split("/")[depth])
            ordered = sorted(i for i in ids if after is None or i > after)
            page = ordered[: request.page_size] if request.page_size > 0 else ordered
            ctx.db.stats.reads += 1
        response = fs.ListCollectionIdsResponse.pb()(collection_ids=page)
        if len(page) < len(ordered):
            response.next_page_token = _encode_token(page[-1])
        return response

    # --- transactions ----------------------------------------------------------------------------------------

    def begin_transaction(self, request: Any) -> Any:
        db_key = parse_database(request.database)
        with self.store.mutex:
            txn = self._begin(db_key, request.options)
        return fs.BeginTransactionResponse.pb()(transaction=txn.id)

    def rollback(self, request: Any) -> Any:
        db_key = parse_database(request.database)
        if not request.transaction:
            raise invalid("Rollback needs a transaction.")
        with self.store.mutex:
            txn = self.locks.transactions.get(request.transaction)
            if txn is None or txn.db != db_key:
                raise invalid("The referenced transaction has expired or is no longer valid.")
            self.locks.finish(txn)
        return empty_pb2.Empty()

    # --- writes ----------------------------------------------------------------------------------------------

    def _apply(self, db: Database, writes: list[Any]) -> tuple[list[Any], int]:
        """Apply writes atomically (mutex held, locks taken); returns the write results and commit time."""
        commit_time = self.store.now()
        batch = Batch(db, commit_time)
        results = [apply_write(batch, w) for w in writes]
        self.store.commit(db, commit_time, batch.changes())
        db.stats.writes += batch.writes
        db.stats.deletes += batch.deletes
        return results, commit_time

    def commit(self, request: Any) -> Any:
        db_key = parse_database(request.database)
        writes = list(request.writes)
        paths = sorted({write_path(db_key, w) for w in writes})
        with self.store.mutex:
            db = self.store.database(db_key)
            if request.transaction:
                results, commit_time = self._commit_transaction(db, request.transaction, writes, paths)
            else:
                self.locks.lock_all_at_once([(db_key, p) for p in paths], self.store.now())
                results, commit_time = self._apply(db, writes)
        return fs.CommitResponse.pb()(write_results=results, commit_time=timestamp_from_micros(commit_time))

    def _commit_transaction(
        self, db: Database, txn_id: bytes, writes: list[Any], paths: list[str]
    ) -> tuple[list[Any], int]:
        txn = self.locks.lookup(db.key, txn_id)
        if txn.read_only and writes:
            self.locks.finish(txn)
            raise invalid("Cannot modify entities in a read-only transaction.")
        self.locks.enter(txn)
        try:
            if txn.optimistic:
                self.locks.lock_all_at_once([(db.key, p) for p in paths], txn.priority)
                if any(_version_time(db, p) != t for p, t in txn.read_versions.items()):
                    self.locks.wound(txn)
            else:
                for path in paths:
                    self.locks.lock(txn, (db.key, path))
        finally:
            self.locks.leave(txn)
        if db.take_abort(paths):
            self.locks.wound(txn)  # an injected fault: this commit meets "contention"
        try:
            self.locks.check_commit(txn)
            return self._apply(db, writes)
        finally:
            self.locks.finish(txn)

    def batch_write(self, request: Any) -> Any:
        db_key = parse_database(request.database)
        writes = list(request.writes)
        paths = [write_path(db_key, w) for w in writes]
        if len(set(paths)) != len(paths):
            raise invalid("BatchWrite cannot write the same document more than once.")
        response = fs.BatchWriteResponse.pb()()
        with self.store.mutex:
            db = self.store.database(db_key)
            # Wait until no transaction holds any of the documents before applying any write (each write is then
            # applied on its own, not atomically, as BatchWrite does).
            self.locks.lock_all_at_once([(db_key, p) for p in paths], self.store.now())
            for write in writes:
                try:
                    (result,), _ = self._apply(db, [write])
                    response.write_results.append(result)
                    response.status.add()
                except FirestoreError as error:
                    response.write_results.add()
                    response.status.add(code=error.code.value[0], message=error.message)
        return response

    def _write_one(self, db_key: DbKey, write: Any, mask: Any) -> Any:
        path = write_path(db_key, write)
        with self.store.mutex:
            db = self.store.database(db_key)
            self.locks.lock_all_at_once([(db_key, path)], self.store.now())
            self._apply(db, [write])
            version = db.get(path)
        return None if version is None else self._masked(version.doc, mask)

    def create_document(self, request: Any) -> Any:
        db_key, parent = split_parent(request.parent)
        if not request.collection_id or "/" in request.collection_id:
            raise invalid("CreateDocument needs a collection id.")
        doc_id = request.document_id or auto_id()
        path = "/".join(p for p in (parent, request.collection_id, doc_id) if p)
        write = Write()
        write.update.CopyFrom(request.document)
        write.update.name = document_name(db_key, path)
        check_writable_path(write.update.name, path)
        write.current_document.exists = False
        return self._write_one(db_key, write, request.mask)

    def update_document(self, request: Any) -> Any:
        db_key, _ = split_document(request.document.name)
        write = Write(update=request.document)
        if request.HasField("update_mask"):
            write.update_mask.CopyFrom(request.update_mask)
        if request.HasField("current_document"):
            write.current_document.CopyFrom(request.current_document)
        return self._write_one(db_key, write, request.mask)

    def delete_document(self, request: Any) -> Any:
        db_key, _ = split_document(request.name)
        write = Write(delete=request.name)
        if request.HasField("current_document"):
            write.current_document.CopyFrom(request.current_document)
        self._write_one(db_key, write, common_types.DocumentMask.pb()())
        return empty_pb2.Empty()


def _version_time(db: Database, path: str) -> int | None:
    version = db.get(path)
    return None if version is None else version.time


def _encode_token(path: str) -> str:
    return base64.urlsafe_b64encode(path.encode()).decode()


def _decode_token(token: str) -> str | None:
    if not token:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except ValueError as error:
        raise invalid("Invalid page_token.") from error


def _explain_metrics(analyze: bool, results: int, skipped: int, started: float) -> Any:
    metrics = profile_types.ExplainMetrics.pb()()
    index = metrics.plan_summary.indexes_used.add()
    index.update({"query_scope": "Collection", "properties": "(__name__ ASC)"})
    if analyze:
        stats = metrics.execution_stats
        stats.results_returned = results
        stats.read_operations = max(1, results + skipped)
        stats.execution_duration.FromNanoseconds(max(1000, int((time.perf_counter() - started) * 1e9)))
        stats.debug_stats.update(
            {
                "billing_details": {"documents_billable": str(results), "index_entries_billable": "0"},
                "documents_scanned": str(results + skipped),
                "index_entries_scanned": str(results + skipped),
            }
        )
    return metrics
