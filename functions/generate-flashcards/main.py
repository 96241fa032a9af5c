"""generate-flashcards: start and follow AI flashcard generation jobs.

POST /generate-flashcards {documentIds | text, deckId | newDeckName, count, types, language?}
→ 202 {jobId}; GET /generate-flashcards[/{jobId}]; GET /{jobId}/drafts;
POST /{jobId}/drafts/accept|reject {cardIds?}.
"""

import functions_framework

from aksio.endpoints.generate_flashcards import api


@functions_framework.http
def generate_flashcards(request):
    return api(request)
