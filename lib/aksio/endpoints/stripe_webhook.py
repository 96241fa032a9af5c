"""stripe-webhook: Stripe's events, verified on the raw body, applied once, in order.

Public (Stripe authenticates by signature, not by token). Answers: 200 for every verified
event (applied, duplicate, stale, ignored type, unknown customer); 400 for a missing, wrong
or too old signature or an unreadable event, and nothing else happens; 413 above 1 MiB;
5xx for any failure of ours, so Stripe retries.
"""

from __future__ import annotations

from aksio import errors
from aksio.billing import api as models
from aksio.billing import model, service, signature
from aksio.clients import firestore_client
from aksio.config import get_config
from aksio.http import Api, Ctx

api = Api("stripe-webhook", summary="Stripe webhook: subscription sync", auth=False)


# What the pipeline cannot see (the body is read raw, for the signature), for the document.
RAW_EVENT = {
    "parameters": [
        {
            "name": "Stripe-Signature",
            "in": "header",
            "required": True,
            "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<body>' under the endpoint's signing secret>",
            "schema": {"type": "string", "pattern": "^t=[0-9]+(,v[0-9]+=[0-9a-f]+)+$"},
        }
    ],
    "requestBody": {
        "required": True,
        "description": "A Stripe event, verified on its raw bytes (at most 1 MiB)",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["id", "type", "created", "data"],
                    "properties": {
                        "id": {"type": "string", "minLength": 1},
                        "type": {"type": "string"},
                        "created": {"type": "integer"},
                        "data": {
                            "type": "object",
                            "required": ["object"],
                            "properties": {"object": {"type": "object"}},
                        },
                    },
                }
            }
        },
    },
}


@api.post("/", response=models.WebhookAck, errors=(400, 413, 503), doc=RAW_EVENT)
def receive(ctx: Ctx) -> models.WebhookAck:
    """Receive one Stripe event (``Stripe-Signature`` over the raw body)."""
    max_bytes = get_config().max_body_bytes
    payload = ctx.request.stream.read(max_bytes + 1)
    if len(payload) > max_bytes:
        raise errors.TooLarge(f"The request body is larger than {max_bytes} bytes.")
    try:
        result = service.webhook(firestore_client(), payload, ctx.request.headers.get("Stripe-Signature"))
    except signature.InvalidSignature as exc:
        raise errors.Invalid(f"Invalid Stripe signature ({exc}).", code="invalid_signature") from None
    except model.EventError as exc:
        raise errors.Invalid(str(exc), code="invalid_event") from None
    return models.WebhookAck(event_id=result.event_id, type=result.type, outcome=result.outcome, plan=result.plan)
