"""run-generation: one step of a generation job, called by Cloud Tasks only.

POST /run-generation {uid, jobId, step} with the queue's OIDC token (locally too: the
stack's Tasks emulator mints it).
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.run_generation import task_api


@functions_framework.http
def run_generation(request):
    return task_api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(task_api.framework_error)
