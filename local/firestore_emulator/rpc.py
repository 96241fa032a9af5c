"""gRPC plumbing: the ``google.firestore.v1.Firestore`` generic handler on a ``grpc.aio`` server.

Each request first runs inline on the event loop, which is the fast path (no thread hand-off). A request that would
have to wait for a document lock raises :class:`~.txn.WouldBlock` there and is run again on a worker thread, where
waiting is allowed. Every failure becomes a gRPC status: :class:`~.errors.FirestoreError` its own code, anything
else INTERNAL with a log line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
from google.cloud.firestore_v1.types import firestore as fs
from google.protobuf import empty_pb2

from .errors import FirestoreError
from .listen import ListenHub
from .service import FirestoreService
from .txn import WouldBlock
from .values import Document

log = logging.getLogger("firestore_emulator")

Method = Callable[[Any], Any]


class Dispatcher:
    """Runs service methods inline, or on ``pool`` when they need to wait."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool

    async def call(self, method: Method, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            # A request that begins a transaction is not run twice: it goes to a worker thread at once.
            if "new_transaction" not in request.DESCRIPTOR.fields_by_name or not request.HasField("new_transaction"):
                try:
                    return method(request)
                except WouldBlock:
                    pass
            return await asyncio.get_running_loop().run_in_executor(self.pool, method, request)
        except FirestoreError as error:
            await context.abort(error.code, error.message)
        except Exception as error:
            log.exception("internal error in %s", getattr(method, "__name__", method))
            await context.abort(grpc.StatusCode.INTERNAL, f"Internal emulator error: {type(error).__name__}: {error}")
        raise AssertionError("unreachable")

    def unary(self, method: Method, request_type: Any, response_type: Any) -> grpc.RpcMethodHandler:
        async def handler(request: Any, context: grpc.aio.ServicerContext) -> Any:
            return await self.call(method, request, context)

        return grpc.unary_unary_rpc_method_handler(
            handler, request_deserializer=request_type.FromString, response_serializer=response_type.SerializeToString
        )

    def stream(self, method: Method, request_type: Any, response_type: Any) -> grpc.RpcMethodHandler:
        async def handler(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            for response in await self.call(method, request, context):
                yield response

        return grpc.unary_stream_rpc_method_handler(
            handler, request_deserializer=request_type.FromString, response_serializer=response_type.SerializeToString
        )


def generic_handler(service: FirestoreService, hub: ListenHub, pool: ThreadPoolExecutor) -> grpc.GenericRpcHandler:
    d = Dispatcher(pool)
    empty = empty_pb2.Empty

    async def listen(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        try:
            async for response in hub.serve(requests):
                yield response
        except FirestoreError as error:
            await context.abort(error.code, error.message)
        except Exception as error:
            log.exception("internal error in Listen")
            await context.abort(grpc.StatusCode.INTERNAL, f"Internal emulator error: {type(error).__name__}: {error}")

    handlers = {
        "GetDocument": d.unary(service.get_document, fs.GetDocumentRequest.pb(), Document),
        "ListDocuments": d.unary(service.list_documents, fs.ListDocumentsRequest.pb(), fs.ListDocumentsResponse.pb()),
        "UpdateDocument": d.unary(service.update_document, fs.UpdateDocumentRequest.pb(), Document),
        "DeleteDocument": d.unary(service.delete_document, fs.DeleteDocumentRequest.pb(), empty),
        "CreateDocument": d.unary(service.create_document, fs.CreateDocumentRequest.pb(), Document),
        "BatchGetDocuments": d.stream(
            service.batch_get_documents, fs.BatchGetDocumentsRequest.pb(), fs.BatchGetDocumentsResponse.pb()
        ),
        "BeginTransaction": d.unary(
            service.begin_transaction, fs.BeginTransactionRequest.pb(), fs.BeginTransactionResponse.pb()
        ),
        "Commit": d.unary(service.commit, fs.CommitRequest.pb(), fs.CommitResponse.pb()),
        "Rollback": d.unary(service.rollback, fs.RollbackRequest.pb(), empty),
        "RunQuery": d.stream(service.run_query, fs.RunQueryRequest.pb(), fs.RunQueryResponse.pb()),
        "RunAggregationQuery": d.stream(
            service.run_aggregation_query, fs.RunAggregationQueryRequest.pb(), fs.RunAggregationQueryResponse.pb()
        ),
        "ListCollectionIds": d.unary(
            service.list_collection_ids, fs.ListCollectionIdsRequest.pb(), fs.ListCollectionIdsResponse.pb()
        ),
        "BatchWrite": d.unary(service.batch_write, fs.BatchWriteRequest.pb(), fs.BatchWriteResponse.pb()),
        "Listen": grpc.stream_stream_rpc_method_handler(
            listen,
            request_deserializer=fs.ListenRequest.pb().FromString,
            response_serializer=fs.ListenResponse.pb().SerializeToString,
        ),
    }
    return grpc.method_handlers_generic_handler("google.firestore.v1.Firestore", handlers)
