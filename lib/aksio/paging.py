"""Cursor pagination shared by every list endpoint.

A cursor is opaque to clients: the sort key (a timestamp) and the document id of the last
item returned, as base64url JSON. Lists order by that timestamp, then ``__name__``.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from aksio import errors


def _utc(value: datetime) -> datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC)


def encode(created_at: datetime, doc_id: str) -> str:
    raw = json.dumps([_utc(created_at).isoformat(), doc_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, doc_id = json.loads(raw)
        if not isinstance(doc_id, str) or not doc_id or "/" in doc_id:
            raise ValueError("bad id")
        return _utc(datetime.fromisoformat(when)), doc_id
    except (ValueError, TypeError):
        raise errors.Invalid(
            "cursor is not one this API returned.",
            code="invalid_cursor",
            details=[{"field": "cursor", "in": "query", "message": "invalid cursor"}],
        ) from None


def page(query: Any, field: str, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    """One page of ``query`` (already ordered by ``field`` then ``__name__``): up to ``limit``
    snapshots after ``cursor``, and the cursor of the next page (None on the last one).
    Reads ``limit + 1`` documents to know whether another page exists."""
    if cursor:
        when, doc_id = decode(cursor)
        query = query.start_after([when, doc_id])
    snaps = list(query.limit(limit + 1).stream())
    more = len(snaps) > limit
    snaps = snaps[:limit]
    next_cursor = None
    if more and snaps:
        last = snaps[-1]
        next_cursor = encode((last.to_dict() or {})[field], last.id)
    return snaps, next_cursor


def newest_first(query: Any, field: str = "createdAt") -> Any:
    """``query`` ordered by ``field`` then ``__name__``, both descending (for :func:`page`)."""
    from google.cloud import firestore

    desc = firestore.Query.DESCENDING
    return query.order_by(field, direction=desc).order_by("__name__", direction=desc)
