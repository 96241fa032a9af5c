"""notifications: the signed-in user's push devices and in-app inbox.

POST|GET /notifications/devices, DELETE /notifications/devices/{deviceId};
GET /notifications?limit=&cursor=, GET /notifications/unread, POST /notifications/{id}/read.
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.notifications import api


@functions_framework.http
def notifications(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
