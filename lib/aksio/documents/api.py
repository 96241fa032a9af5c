"""Request and response models of create-upload and documents (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator

from aksio.documents import model
from aksio.documents.kinds import CONTENT_TYPES
from aksio.schema import ApiModel, ListQuery, RequestModel

Status = model.Status


class NewUpload(RequestModel):
    filename: Annotated[str, Field(min_length=1, max_length=500)]
    # Validation also takes any case and parameters (``text/plain; charset=utf-8``).
    content_type: Annotated[str, Field(min_length=1, max_length=200, json_schema_extra={"enum": sorted(CONTENT_TYPES)})]
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
    course_id: str | None = None
    section_id: str | None = None
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


class DocumentPatch(RequestModel):
    """The document's course (null: no course) and section in it (null: none)."""

    course_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    section_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None


class DocumentDeleted(ApiModel):
    id: str
    deleted: bool = True
    cards_marked: int = 0
