"""The JSON form of values, as the API's pydantic models write it, for read paths that
answer without pydantic (cold start): times in ISO 8601 with ``Z`` for UTC, and no nulls."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def iso(value: Any) -> Any:
    """A datetime as pydantic writes it (``2026-01-02T03:04:05.120000Z``); other values as they are."""
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return value


def compact(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without the keys whose value is None (the models are dumped with ``exclude_none``)."""
    return {k: v for k, v in data.items() if v is not None}
