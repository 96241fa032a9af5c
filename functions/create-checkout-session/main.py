"""create-checkout-session: a Stripe Checkout session for a paid plan.

POST /create-checkout-session {plan?, successUrl?, cancelUrl?} → {id, url}.
"""

import functions_framework

from aksio.endpoints.create_checkout_session import api


@functions_framework.http
def create_checkout_session(request):
    return api(request)
