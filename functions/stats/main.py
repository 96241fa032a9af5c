"""stats: reviews per day, true retention, streak, cards by state, due forecast.

GET /stats?days=30
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.stats import api


@functions_framework.http
def stats(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
