"""optimize-fsrs: fit one user's FSRS parameters (Cloud Tasks only; POST {uid})."""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.optimize_fsrs import task_api


@functions_framework.http
def optimize_fsrs(request):
    return task_api(request)


functions_framework.errorhandler(HTTPException)(task_api.framework_error)
