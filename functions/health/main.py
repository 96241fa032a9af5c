"""health: liveness with a cheap Firestore check.

GET /health → 200 {"status": "ok", "checks": {...}} or 503 when a dependency fails.
Public (no token): uptime checks and load balancers call it.
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.health import api


@functions_framework.http
def health(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
