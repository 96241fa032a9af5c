"""courses: the signed-in user's courses.

POST /courses {name, description?, examDate?, sections?}, GET /courses?limit=&cursor=,
GET|PATCH /courses/{courseId}, DELETE /courses/{courseId}?deleteContents=.
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.courses import api


@functions_framework.http
def courses(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
