"""create-portal-session: a Stripe Billing Portal session for the signed-in user.

POST /create-portal-session {returnUrl?} → {id, url}; 404 without a Stripe customer.
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.create_portal_session import api


@functions_framework.http
def create_portal_session(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
