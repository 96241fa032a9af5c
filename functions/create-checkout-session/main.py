"""create-checkout-session: a Stripe Checkout session for a paid plan.

POST /create-checkout-session {plan?, successUrl?, cancelUrl?} → {id, url}.
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.create_checkout_session import api


@functions_framework.http
def create_checkout_session(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
