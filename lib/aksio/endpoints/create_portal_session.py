"""create-portal-session: a Stripe Billing Portal session for the signed-in user's customer."""

from __future__ import annotations

from aksio.billing import api as models
from aksio.billing import service
from aksio.clients import firestore_client
from aksio.http import Api, Ctx

api = Api("create-portal-session", summary="Open the Stripe Billing Portal")


@api.post(
    "/",
    body=models.PortalRequest,
    response=models.PortalSession,
    errors=(400, 401, 404, 413, 415, 503),
    spends="billing",
)
def create(ctx: Ctx) -> models.PortalSession:
    """A Billing Portal session; redirect the browser to ``url``. 404 when the user has no
    Stripe customer yet."""
    body: models.PortalRequest = ctx.body
    session = service.portal(firestore_client(), ctx.uid, body.return_url)
    return models.PortalSession(id=session["id"], url=session["url"])
