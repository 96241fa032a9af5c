"""generate-flashcards: start and follow AI flashcard generation jobs.

POST /generate-flashcards {documentIds | text, deckId | newDeckName, count, types, language?}
→ 202 {jobId}; GET /generate-flashcards[/{jobId}]; GET /{jobId}/drafts;
POST /{jobId}/drafts/accept|reject {cardIds?}.
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.generate_flashcards import api


@functions_framework.http
def generate_flashcards(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
