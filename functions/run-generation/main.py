"""run-generation: one step of a generation job, called by Cloud Tasks only.

POST /run-generation {uid, jobId, step} with the queue's OIDC token (production) or the
local stack's shared secret (X-Aksio-Task-Secret).
"""

import functions_framework

from aksio.endpoints.run_generation import task_api


@functions_framework.http
def run_generation(request):
    return task_api(request)
