"""Shared handling of CloudEvents (Eventarc) deliveries.

Delivery is at least once and retried while the handler fails, so handlers are
idempotent and tell two kinds of failure apart: a permanent one is recorded and the
event acknowledged (return normally), a transient one raises (Eventarc retries). Events
older than ``EVENT_MAX_AGE_SECONDS`` (default 3600) are dropped with a log line, as
Google's "avoid infinite retries" guidance does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aksio import log
from aksio.config import get_config

_log = log.get_logger("aksio.events")


class Retry(Exception):
    """A transient condition: fail this delivery so that it is retried later."""


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    source: str
    time: datetime | None
    data: dict[str, Any]

    def age_seconds(self, now: datetime | None = None) -> float | None:
        if self.time is None:
            return None
        return ((now or datetime.now(UTC)) - self.time).total_seconds()


def max_age_seconds() -> float:
    return get_config().event_max_age_seconds


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def from_cloud_event(cloud_event: Any) -> Event:
    """Our view of a functions-framework ``CloudEvent`` (attributes and JSON data)."""
    attributes = dict(cloud_event.get_attributes()) if hasattr(cloud_event, "get_attributes") else {}
    data = cloud_event.get_data() if hasattr(cloud_event, "get_data") else getattr(cloud_event, "data", None)
    if isinstance(data, bytes | str):
        import json

        try:
            data = json.loads(data)
        except ValueError:
            data = None
    event = Event(
        id=str(attributes.get("id", "")),
        type=str(attributes.get("type", "")),
        source=str(attributes.get("source", "")),
        time=parse_time(attributes.get("time")),
        data=data if isinstance(data, dict) else {},
    )
    log.set_context(event.id[:64] or None, None, get_config().project)
    return event


def too_old(event: Event, now: datetime | None = None) -> bool:
    """Whether the event is past the maximum age (logged; the caller drops it)."""
    age = event.age_seconds(now)
    if age is not None and age > max_age_seconds():
        _log.warning(
            "dropping event older than %.0f s",
            max_age_seconds(),
            extra={"eventId": event.id, "eventType": event.type, "ageSeconds": round(age)},
        )
        return True
    return False
