"""Where Stripe sends the browser back to: success, cancel and portal-return URLs.

Only URLs on an allow-listed origin (``BILLING_RETURN_ORIGINS``, comma-separated
``scheme://host[:port]``) are accepted, so a checkout can never bounce a user to a page we
do not own. A request may name its own URLs (the web app knows its routes); without them
the defaults below, on the first allowed origin, are used. Pure: no I/O.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aksio import errors
from aksio.config import get_config

ORIGINS_ENV = "BILLING_RETURN_ORIGINS"
SUCCESS_PATH = "/billing/success?session_id={CHECKOUT_SESSION_ID}"
CANCEL_PATH = "/billing/canceled"
RETURN_PATH = "/billing"
MAX_URL = 2048


def allowed_origins() -> tuple[str, ...]:
    return get_config().billing_return_origins


def _origin(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    host = parts.hostname.lower()
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def is_allowed(url: str, origins: tuple[str, ...]) -> bool:
    return len(url) <= MAX_URL and _origin(url) in origins


def resolve(url: str | None, default_path: str, field: str, origins: tuple[str, ...] | None = None) -> str:
    """``url`` if it is on an allowed origin (else 400), or the default on the first origin."""
    origins = allowed_origins() if origins is None else origins
    if not origins:
        raise RuntimeError(f"{ORIGINS_ENV} is not configured")
    if url is None:
        return origins[0] + default_path
    if not is_allowed(url, origins):
        raise errors.Invalid(
            f"{field} must be on an allowed origin.",
            code="return_url_not_allowed",
            details=[{"field": field, "in": "body", "message": "origin not allowed"}],
        )
    return url
