"""documents: the signed-in user's documents (list with status, one with progress and
counts, delete with its file, chunks and index)."""

from __future__ import annotations

from aksio import lazy, params
from aksio.clients import firestore_client, storage_client
from aksio.config import get_config
from aksio.documents import service
from aksio.documents.service import Json
from aksio.http import Api, Ctx

# models are imported when a request needs one (cold start: reads need none)
models = lazy.models("aksio.documents.api")

api = Api("documents", summary="Uploaded documents of the signed-in user")


@api.get("/", query=models.DocumentListQuery, fast_query=params.LIST, response=models.DocumentPage, errors=(400,))
def list_(ctx: Ctx) -> Json:
    """The documents with their status, oldest first, ``limit`` at a time."""
    return service.list_documents(firestore_client(), ctx.uid, ctx.query)


@api.get("/<document>", response=models.Document, errors=(404,))
def read(ctx: Ctx) -> Json:
    """One document: status, progress, page and chunk counts, the reason it failed."""
    return service.get_document(firestore_client(), ctx.uid, ctx.params["document"])


@api.patch("/<document>", body=models.DocumentPatch, response=models.Document, errors=(400, 404, 413, 415))
def move(ctx: Ctx) -> Json:
    """Put the document in a course (``courseId``) and section (``sectionId``), move it, or
    take it out (``courseId`` null). 404 for a course or section that is not the caller's."""
    return service.update_document(firestore_client(), ctx.uid, ctx.params["document"], ctx.body)


@api.delete("/<document>", response=models.DocumentDeleted, errors=(404,))
def delete(ctx: Ctx) -> Json:
    """Delete a document: its file, chunks and index. Cards made from it stay, with
    ``source.removed`` set."""
    bucket = storage_client().bucket(get_config().upload_bucket)
    return service.delete_document(firestore_client(), bucket, ctx.uid, ctx.params["document"])
