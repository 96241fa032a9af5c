"""stripe-webhook: Stripe events → the user's plan, status and `plan` claim.

POST /stripe-webhook with Stripe-Signature; verified, deduplicated by event id, order-safe.
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.stripe_webhook import api


@functions_framework.http
def stripe_webhook(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
