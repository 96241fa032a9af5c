"""cards: the signed-in user's flashcards.

POST /cards {deckId, front, back | cloze, tags?}, GET /cards?deckId=&limit=&cursor=,
GET|PATCH|DELETE /cards/{cardId}, POST /cards/{cardId}/suspend|unsuspend.
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.cards import api


@functions_framework.http
def cards(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
