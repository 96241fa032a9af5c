"""documents: the signed-in user's uploaded documents.

GET /documents?limit=&cursor=, GET /documents/{id} (status, progress, counts, error),
DELETE /documents/{id} (file, chunks, index; cards made from it are marked source.removed).
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.documents import api


@functions_framework.http
def documents(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
