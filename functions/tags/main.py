"""tags: the tags of the signed-in user's cards.

GET /tags, PATCH /tags/{tag} {name}, DELETE /tags/{tag}.
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.tags import api


@functions_framework.http
def tags(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
