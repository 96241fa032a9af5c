"""chat-reply: the AI tutor, answering from the user's documents with citations.

POST /chat-reply {chatId?, message, documentIds?} (Accept: text/event-stream to stream);
GET /chat-reply, GET /chat-reply/{chatId}, GET /chat-reply/{chatId}/messages,
DELETE /chat-reply/{chatId}.
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.chat_reply import api


@functions_framework.http
def chat_reply(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
