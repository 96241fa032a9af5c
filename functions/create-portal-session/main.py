"""create-portal-session: a Stripe Billing Portal session for the signed-in user.

POST /create-portal-session {returnUrl?} → {id, url}; 404 without a Stripe customer.
"""

import functions_framework

from aksio.endpoints.create_portal_session import api


@functions_framework.http
def create_portal_session(request):
    return api(request)
