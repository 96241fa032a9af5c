"""quizzes: quizzes from decks or documents, attempts graded on the server, misses → cards.

POST /quizzes {deckId | documentIds, count, kinds, timeLimitSeconds?}; GET /quizzes[/{quizId}];
POST /{quizId}/attempts; PUT /{quizId}/attempts/{attemptId}/answers/{questionId};
POST /{quizId}/attempts/{attemptId}/submit; POST .../misses-to-cards {deckId}.
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.quizzes import api


@functions_framework.http
def quizzes(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
