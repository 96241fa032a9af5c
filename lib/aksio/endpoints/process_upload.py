"""process-upload: the edge of the ``object.finalized`` event (:mod:`aksio.documents.process`).

The delivery is acknowledged (200) when the event was processed, ignored or dropped; any
failure fails it so Eventarc retries. Contention that outlasted the transaction's retries
answers 503 ``contention`` with ``Retry-After``, like every other route; other transient
failures stay a 500.
"""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import ServiceUnavailable

from aksio import errors
from aksio.documents import process
from aksio.edge import error_headers, status_of
from aksio.http import json_response


def on_finalized(cloud_event: Any) -> str:
    try:
        return process.on_finalized(cloud_event)
    except errors.Contention as exc:
        answer = json_response(exc.body(None), status_of(exc), error_headers(exc))
        raise ServiceUnavailable(response=answer) from exc
