"""study-queue: the cards to study now within the daily limits.

GET /study-queue?deckId=&limit=
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.study_queue import api


@functions_framework.http
def study_queue(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
