"""process-upload: an upload finished (Eventarc google.cloud.storage.object.v1.finalized).

Extracts the text, chunks and indexes it, and keeps the document's status and progress.
A bad file ends the document `failed` with a reason and acknowledges the event; a transient
failure raises so the event is retried (contention answers 503); stale and duplicate events
are no-ops.
"""

import functions_framework

from aksio.endpoints.process_upload import on_finalized


@functions_framework.cloud_event
def process_upload(cloud_event):
    on_finalized(cloud_event)
