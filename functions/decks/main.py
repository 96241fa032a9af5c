"""decks: the signed-in user's decks.

POST /decks {name, description?}, GET /decks?limit=&cursor=, GET|PATCH|DELETE /decks/{deckId}.
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.decks import api


@functions_framework.http
def decks(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
