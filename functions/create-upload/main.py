"""create-upload: a document record and a V4 signed URL to PUT its file to Storage.

POST /create-upload {filename, contentType, sizeBytes} → 201 {document, upload: {url, method, headers, expiresAt}}.
"""

import functions_framework

from aksio.endpoints.create_upload import api


@functions_framework.http
def create_upload(request):
    return api(request)
