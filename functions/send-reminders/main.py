"""send-reminders: Cloud Scheduler's every-15-minutes job that reminds users to study.

POST /send-reminders (Cloud Scheduler's OIDC token; the stack's shared secret locally).
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.send_reminders import task_api


@functions_framework.http
def send_reminders(request):
    return task_api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(task_api.framework_error)
