"""account-jobs: one step of an account job (deletion, export), called by Cloud Tasks only.

POST /account-jobs {kind, uid, step?, exportId?} with the queue's OIDC token (production) or
the local stack's shared secret (X-Aksio-Task-Secret).
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.account_jobs import task_api


@functions_framework.http
def account_jobs(request):
    return task_api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(task_api.framework_error)
