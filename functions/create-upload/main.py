"""create-upload: a document record and a V4 signed URL to PUT its file to Storage.

POST /create-upload {filename, contentType, sizeBytes} → 201 {document, upload: {url, method, headers, expiresAt}}.
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.create_upload import api


@functions_framework.http
def create_upload(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
