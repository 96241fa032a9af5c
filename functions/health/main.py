"""health: liveness with a cheap Firestore check.

GET /health → 200 {"status": "ok", "checks": {...}} or 503 when a dependency fails.
Public (no token): uptime checks and load balancers call it.
"""

import functions_framework

from aksio.endpoints.health import api


@functions_framework.http
def health(request):
    return api(request)
