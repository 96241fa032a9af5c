"""A document's answer is in the API's form without pydantic: read back through its model
and dumped as the pipeline dumps models, it is unchanged."""

from __future__ import annotations

from datetime import UTC

from google.api_core.datetime_helpers import DatetimeWithNanoseconds

from aksio.documents import api
from aksio.documents.model import Document
from aksio.documents.service import document_view

T = DatetimeWithNanoseconds(2026, 3, 2, 9, 30, 15, 120000, tzinfo=UTC)


def test_document_views_are_the_model_dumped() -> None:
    stored = [
        {"filename": "a.pdf", "contentType": "application/pdf", "sizeBytes": 10, "createdAt": T, "updatedAt": T},
        {
            "filename": "b.txt",
            "contentType": "text/plain",
            "sizeBytes": 3,
            "status": "failed",
            "progress": 40,
            "error": {"code": "no_text", "message": "No text."},
            "createdAt": T,
        },
        {
            "filename": "c.docx",
            "contentType": "x",
            "sizeBytes": 1,
            "status": "ready",
            "pageCount": 3,
            "chunkCount": 5,
            "sameAs": "d0",
            "progress": 100,
        },
    ]
    for data in stored:
        doc = Document.from_stored("d1", data)
        view = document_view(doc)
        assert api.Document.model_validate(view).model_dump(mode="json", by_alias=True, exclude_none=True) == view
