"""documents: the signed-in user's uploaded documents.

GET /documents?limit=&cursor=, GET /documents/{id} (status, progress, counts, error),
DELETE /documents/{id} (file, chunks, index; cards made from it are marked source.removed).
"""

import functions_framework

from aksio.endpoints.documents import api


@functions_framework.http
def documents(request):
    return api(request)
