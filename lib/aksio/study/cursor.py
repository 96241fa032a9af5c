"""Opaque pagination cursors: the sort key of the last item, base64url JSON."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from aksio import errors
from aksio.study.model import utc


def encode(created_at: datetime, doc_id: str) -> str:
    raw = json.dumps([utc(created_at).isoformat(), doc_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, doc_id = json.loads(raw)
        if not isinstance(doc_id, str) or not doc_id or "/" in doc_id:
            raise ValueError("bad id")
        return utc(datetime.fromisoformat(when)), doc_id
    except (ValueError, TypeError):
        raise errors.BadRequest(
            "cursor is not one this API returned.",
            code="invalid_cursor",
            details=[{"field": "cursor", "in": "query", "message": "invalid cursor"}],
        ) from None
