"""process-upload: an upload finished (Eventarc google.cloud.storage.object.v1.finalized).

Extracts the text, chunks and indexes it, and keeps the document's status and progress.
A bad file ends the document `failed` with a reason and acknowledges the event; a transient
failure raises so the event is retried (contention answers 503); stale and duplicate events
are no-ops.
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.process_upload import on_finalized
from aksio.http import framework_error


@functions_framework.cloud_event
def process_upload(cloud_event):
    on_finalized(cloud_event)


# functions-framework's own errors (a GET's 405, a body that is no event) in the JSON error shape.
functions_framework.errorhandler(HTTPException)(framework_error)
