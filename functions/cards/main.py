"""cards: the signed-in user's flashcards.

POST /cards {deckId, front, back | cloze, tags?}, GET /cards?deckId=&limit=&cursor=,
GET|PATCH|DELETE /cards/{cardId}, POST /cards/{cardId}/suspend|unsuspend.
"""

import functions_framework

from aksio.endpoints.cards import api


@functions_framework.http
def cards(request):
    return api(request)
