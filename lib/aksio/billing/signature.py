"""The ``Stripe-Signature`` check of a webhook, on the raw body, with the official library.

Stripe signs ``"{t}.{body}"`` with HMAC-SHA256 under the endpoint's signing secret and sends
``t=<seconds>,v1=<hex>[,v1=<hex>...]`` (one ``v1`` per secret while Stripe rolls a secret).
We accept the event when any of *our* configured secrets matches any ``v1`` (so during a
rotation both the old and the new secret are configured: ``STRIPE_WEBHOOK_SECRET`` holds them
comma-separated) and the timestamp is at most :data:`TOLERANCE_S` old.
"""

from __future__ import annotations

from aksio.secrets import get_secret

TOLERANCE_S = 300
SECRET_NAME = "STRIPE_WEBHOOK_SECRET"  # noqa: S105 - the name, not the value


class InvalidSignature(Exception):
    """Missing, malformed, wrong or too old signature (answered 400)."""


def webhook_secrets() -> tuple[str, ...]:
    raw = get_secret(SECRET_NAME) or ""
    secrets = tuple(s.strip() for s in raw.split(",") if s.strip())
    if not secrets:
        raise RuntimeError(f"secret {SECRET_NAME} is empty")
    return secrets


def verify(payload: bytes, header: str | None, secrets: tuple[str, ...], tolerance: int = TOLERANCE_S) -> None:
    """Raise :class:`InvalidSignature` unless ``header`` signs ``payload`` under one of ``secrets``."""
    from stripe import SignatureVerificationError, WebhookSignature

    if not header:
        raise InvalidSignature("missing Stripe-Signature header")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSignature("the body is not UTF-8") from None
    last = "no secret configured"
    for secret in secrets:
        try:
            WebhookSignature.verify_header(text, header, secret, tolerance)
        except SignatureVerificationError as exc:
            last = str(exc).split(":")[0]
            continue
        return
    raise InvalidSignature(last)
