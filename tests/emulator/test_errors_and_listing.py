"""Bad requests get Firestore's status codes (never a hang); listing documents and collection ids."""

from __future__ import annotations

import grpc
import pytest
from google.api_core.exceptions import InvalidArgument, NotFound
from google.cloud import firestore
from google.cloud.firestore_v1.types import firestore as fs

from firestore_emulator import Emulator


def raw_call(emulator: Emulator, method: str, request: bytes) -> grpc.RpcError:
    with grpc.insecure_channel(emulator.address) as channel:
        call = channel.unary_unary(f"/google.firestore.v1.Firestore/{method}")
        with pytest.raises(grpc.RpcError) as failure:
            call(request, timeout=10)
    return failure.value


def test_unimplemented_and_malformed_requests(emulator: Emulator) -> None:
    partition = fs.PartitionQueryRequest.pb()(parent="projects/p/databases/(default)/documents")
    assert raw_call(emulator, "PartitionQuery", partition.SerializeToString()).code() == grpc.StatusCode.UNIMPLEMENTED
    begin = fs.BeginTransactionRequest.pb()(database="not-a-database")
    assert raw_call(emulator, "BeginTransaction", begin.SerializeToString()).code() == grpc.StatusCode.INVALID_ARGUMENT
    get = fs.GetDocumentRequest.pb()(name="projects/p/databases/(default)/documents/only-a-collection")
    assert raw_call(emulator, "GetDocument", get.SerializeToString()).code() == grpc.StatusCode.INVALID_ARGUMENT
    get = fs.GetDocumentRequest.pb()(name="projects/p/databases/(default)/documents/c/missing")
    assert raw_call(emulator, "GetDocument", get.SerializeToString()).code() == grpc.StatusCode.NOT_FOUND


def test_document_rpcs(db: firestore.Client) -> None:
    api = db._firestore_api
    parent = db._database_string + "/documents"
    created = api.create_document(
        request={"parent": parent, "collection_id": "rpc", "document": {"fields": {"a": {"integer_value": 1}}}}
    )
    assert len(created.name.rsplit("/", 1)[1]) == 20
    updated = api.update_document(
        request={
            "document": {"name": created.name, "fields": {"b": {"string_value": "x"}}},
            "update_mask": {"field_paths": ["b"]},
            "current_document": {"exists": True},
        }
    )
    assert set(updated.fields) == {"a", "b"}
    assert api.get_document(request={"name": created.name, "mask": {"field_paths": ["b"]}}).fields.keys() == {"b"}
    api.delete_document(request={"name": created.name, "current_document": {"exists": True}})
    with pytest.raises(NotFound):
        api.get_document(request={"name": created.name})
    with pytest.raises(NotFound):
        api.delete_document(request={"name": created.name, "current_document": {"exists": True}})


def test_oversized_document_is_invalid_argument(db: firestore.Client) -> None:
    with pytest.raises(InvalidArgument):
        db.document("big/doc").set({"blob": b"x" * (1024 * 1024 + 1)})


def test_list_documents_shows_missing_parents_and_pages(db: firestore.Client) -> None:
    coll = db.collection("listing")
    for n in range(5):
        coll.document(f"d{n}").set({"n": n})
    coll.document("ghost").collection("sub").document("s").set({})  # "ghost" itself does not exist
    names = sorted(ref.id for ref in coll.list_documents(page_size=2))
    assert names == ["d0", "d1", "d2", "d3", "d4", "ghost"]
    assert [c.id for c in coll.document("ghost").collections()] == ["sub"]
    assert sorted(c.id for c in db.collections()) == ["listing"]


def test_listen_target_with_a_bad_query_is_removed_with_its_cause(db: firestore.Client) -> None:
    request = fs.ListenRequest.pb()(database=db._database_string)
    target = request.add_target
    target.target_id = 7
    target.query.parent = db._database_string + "/documents"
    target.query.structured_query.limit.value = -1
    target.query.structured_query.from_.add(collection_id="x")
    responses = db._firestore_api._transport.listen(iter([request]), timeout=10)
    first = next(iter(responses))
    change = first.target_change
    assert change.target_change_type == fs.TargetChange.TargetChangeType.REMOVE
    assert list(change.target_ids) == [7]
    assert change.cause.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    responses.cancel()
