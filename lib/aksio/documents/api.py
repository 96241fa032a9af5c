"""Request and response models of create-upload and documents (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from aksio.documents.kinds import CONTENT_TYPES
from aksio.schema import ApiModel, RequestModel
from aksio.study.api import ListQuery

Status = Literal["awaiting_upload", "processing", "ready", "failed"]


class NewUpload(RequestModel):
    filename: Annotated[str, Field(min_length=1, max_length=500)]
    content_type: Annotated[str, Field(min_length=1, max_length=200)]
    size_bytes: Annotated[int, Field(ge=1)]

    @field_validator("content_type")
    @classmethod
    def _allowed(cls, value: str) -> str:
        base = value.split(";", 1)[0].strip().lower()
        if base not in CONTENT_TYPES:
            raise ValueError(f"must be one of {', '.join(sorted(CONTENT_TYPES))}")
        return base


class DocumentError(ApiModel):
    code: str
    message: str


class Document(ApiModel):
    id: str
    filename: str
    content_type: str
    size_bytes: int
    status: Status
    progress: int = 0
    page_count: int | None = None
    chunk_count: int | None = None
    error: DocumentError | None = None
    same_as: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Upload(ApiModel):
    url: str
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str]
    expires_at: datetime


class UploadCreated(ApiModel):
    document: Document
    upload: Upload


class DocumentPage(ApiModel):
    documents: list[Document]
    next_cursor: str | None = None


class DocumentListQuery(ListQuery):
    pass


class DocumentDeleted(ApiModel):
    id: str
    deleted: bool = True
    cards_marked: int = 0


def document(doc_id: str, data: dict[str, Any]) -> Document:
    error = data.get("error")
    return Document(
        id=doc_id,
        filename=str(data.get("filename", "")),
        content_type=str(data.get("contentType", "")),
        size_bytes=int(data.get("sizeBytes") or 0),
        status=data.get("status", "awaiting_upload"),
        progress=int(data.get("progress") or 0),
        page_count=data.get("pageCount"),
        chunk_count=data.get("chunkCount"),
        error=DocumentError(code=str(error.get("code")), message=str(error.get("message")))
        if isinstance(error, dict)
        else None,
        same_as=data.get("sameAs"),
        created_at=data.get("createdAt"),
        updated_at=data.get("updatedAt"),
    )
