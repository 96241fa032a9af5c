"""refit-fsrs: Cloud Scheduler's daily job enqueuing the FSRS fits that are due."""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.refit_fsrs import task_api


@functions_framework.http
def refit_fsrs(request):
    return task_api(request)


functions_framework.errorhandler(HTTPException)(task_api.framework_error)
