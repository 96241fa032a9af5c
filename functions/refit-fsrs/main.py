"""refit-fsrs: Cloud Scheduler's daily job enqueuing the FSRS fits that are due."""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.optimize_fsrs import refit_api


@functions_framework.http
def refit_fsrs(request):
    return refit_api(request)


functions_framework.errorhandler(HTTPException)(refit_api.framework_error)
