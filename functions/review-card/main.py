"""review-card: grade a card on the FSRS schedule, idempotent by the client's review id.

POST /review-card {cardId, rating, reviewId, reviewedAt?, durationMs?},
POST /review-card/undo {cardId, reviewId?}, GET /review-card/{reviewId}.
"""

import functions_framework

from aksio.endpoints.review_card import api


@functions_framework.http
def review_card(request):
    return api(request)
