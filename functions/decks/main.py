"""decks: the signed-in user's decks.

POST /decks {name, description?}, GET /decks?limit=&cursor=, GET|PATCH|DELETE /decks/{deckId}.
"""

import functions_framework

from aksio.endpoints.decks import api


@functions_framework.http
def decks(request):
    return api(request)
