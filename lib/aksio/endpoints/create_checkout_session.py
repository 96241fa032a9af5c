"""create-checkout-session: a Stripe Checkout session (subscription mode) for the signed-in
user; their Stripe customer is created once and reused."""

from __future__ import annotations

from aksio.billing import api as models
from aksio.billing import service
from aksio.clients import firestore_client
from aksio.http import Api, Ctx

api = Api("create-checkout-session", summary="Start a Stripe Checkout for a paid plan")


@api.post(
    "/",
    body=models.CheckoutRequest,
    response=models.CheckoutSession,
    errors=(400, 401, 409, 413, 415, 503),
    spends="billing",
)
def create(ctx: Ctx) -> models.CheckoutSession:
    """A Checkout session for the plan's price; redirect the browser to ``url``. 409 when the
    user already has a subscription (manage it in the portal)."""
    assert ctx.caller is not None
    body: models.CheckoutRequest = ctx.body
    session = service.checkout(
        firestore_client(),
        ctx.uid,
        email=ctx.caller.email if ctx.caller.email_verified else None,  # Stripe gets only a verified email
        plan_id=body.plan,
        success_url=body.success_url,
        cancel_url=body.cancel_url,
    )
    return models.CheckoutSession(id=session["id"], url=session["url"])
