"""study-queue: the cards to study now within the daily limits.

GET /study-queue?deckId=&limit=
"""

import functions_framework

from aksio.endpoints.study_queue import api


@functions_framework.http
def study_queue(request):
    return api(request)
