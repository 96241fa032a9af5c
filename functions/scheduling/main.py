"""scheduling: the signed-in user's own FSRS parameters.

GET /scheduling, POST /scheduling/optimize, DELETE /scheduling/parameters.
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.scheduling import api


@functions_framework.http
def scheduling(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
