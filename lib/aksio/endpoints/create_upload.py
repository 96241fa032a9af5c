"""create-upload: a document record and a signed URL to upload its file straight to Storage."""

from __future__ import annotations

from aksio.clients import firestore_client, storage_client
from aksio.config import get_config
from aksio.documents import api as models
from aksio.documents import service
from aksio.http import Api, Ctx
from aksio.openapi import Link

api = Api("create-upload", summary="Start an upload: a document record and a signed PUT URL")


DOCUMENT = {"document": "$response.body#/document/id"}
CREATED = (Link("read", "documents.read", DOCUMENT), Link("delete", "documents.delete", DOCUMENT))


@api.post(
    "/",
    body=models.NewUpload,
    response=models.UploadCreated,
    status=201,
    errors=(400, 401, 403, 413, 415),
    links=CREATED,
    spends="upload",
)
def create(ctx: Ctx) -> models.UploadCreated:
    """Create a document (``awaiting_upload``) and a V4 signed PUT URL, valid 15 minutes,
    bound to the content type and the plan's size cap (send ``upload.headers`` with the PUT).
    Processing starts when the upload completes; follow it with ``GET /documents/{id}``."""
    bucket = storage_client().bucket(get_config().upload_bucket)
    return service.create_upload(firestore_client(), bucket, ctx.uid, ctx.body)
