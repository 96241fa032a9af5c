"""review-card: grade a card on the FSRS schedule, idempotent by the client's review id.

POST /review-card {cardId, rating, reviewId, reviewedAt?, durationMs?},
POST /review-card/undo {cardId, reviewId?}, GET /review-card/{reviewId}.
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.review_card import api


@functions_framework.http
def review_card(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
