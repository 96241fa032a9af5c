"""The Stripe client: one per instance, lazily imported, pointed at ``STRIPE_API_BASE`` when
set (the local stack's localstripe, or a test server speaking Stripe's wire format).

The API key is the secret ``STRIPE_SECRET_KEY`` (Secret Manager in production). Each request
is bounded by ``STRIPE_TIMEOUT_SECONDS`` (default :data:`aksio.deadlines.STRIPE_TIMEOUT_S`)
with at most ``STRIPE_MAX_NETWORK_RETRIES`` (1) retry, both from :mod:`aksio.config`. Objects are
handed to the rest of the package as plain dicts. Stripe's own failures (unreachable,
rate-limited, 5xx) become 503 so the browser may retry; a request Stripe refuses is our bug
or misconfiguration and becomes a 500 with the details only in the log.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from aksio import errors, log
from aksio.config import get_config
from aksio.secrets import get_secret

_log = log.get_logger("aksio.billing")
_lock = threading.Lock()
_client: Any = None
_client_key: tuple[str, str | None, float, int] | None = None
KEY_NAME = "STRIPE_SECRET_KEY"
T = TypeVar("T")


def client() -> Any:
    """The ``stripe.StripeClient`` of this instance."""
    global _client, _client_key
    cfg = get_config()
    key = (get_secret(KEY_NAME) or "", cfg.stripe_api_base, cfg.stripe_timeout_seconds, cfg.stripe_max_network_retries)
    if _client is None or _client_key != key:
        import stripe

        with _lock:
            api_key, base, timeout, retries = key
            _client = stripe.StripeClient(
                api_key,
                base_addresses={"api": base} if base else None,
                max_network_retries=retries,
                http_client=stripe.RequestsClient(timeout=timeout),
            )
            _client_key = key
    return _client


def as_dict(obj: Any) -> dict[str, Any]:
    """A Stripe object as plain JSON data."""
    to_dict = getattr(obj, "to_dict", None)
    return dict(to_dict()) if to_dict is not None else dict(obj)


@contextmanager
def stripe_errors(what: str) -> Iterator[None]:
    """Map the Stripe library's errors to our error shape."""
    import stripe

    try:
        yield
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        _log.warning("stripe unavailable during %s: %s", what, type(exc).__name__)
        raise errors.Unavailable(
            "The payment provider is unavailable; retry shortly.", code="stripe_unavailable"
        ) from None
    except stripe.StripeError as exc:
        status = getattr(exc, "http_status", None)
        if status is not None and status >= 500:
            _log.warning("stripe failed during %s: %s %s", what, status, type(exc).__name__)
            raise errors.Unavailable(
                "The payment provider is unavailable; retry shortly.", code="stripe_unavailable"
            ) from None
        _log.error("stripe refused %s: %s %s %s", what, status, type(exc).__name__, getattr(exc, "code", None))
        raise errors.Internal() from None


def call(what: str, fn: Callable[[], T]) -> T:
    with stripe_errors(what):
        return fn()
