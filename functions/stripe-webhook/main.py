"""stripe-webhook: Stripe events → the user's plan, status and `plan` claim.

POST /stripe-webhook with Stripe-Signature; verified, deduplicated by event id, order-safe.
"""

import functions_framework

from aksio.endpoints.stripe_webhook import api


@functions_framework.http
def stripe_webhook(request):
    return api(request)
