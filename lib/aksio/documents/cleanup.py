"""Objects of uploads that failed or never finished are deleted.

- A document whose processing failed for good (wrong type, too large, corrupt, over quota…)
  keeps its record (the user sees why) but its object, useless now, is deleted:
  :func:`discard_object`, with the processed generation as precondition, so a newer upload
  of the same object is never deleted by an older failure.
- A document still ``awaiting_upload`` long after its URL expired was abandoned:
  :func:`sweep_abandoned` deletes its record, and its object if one arrived without ever
  being processed. Past :func:`abandoned_after` (the URL's 15 minutes plus the age at which
  an upload's event is dropped anyway, 1 hour by default) no event can make it progress. It
  runs for the caller on each create-upload (a few reads; a user who starts uploads again
  clears what they abandoned).

A single PUT through a signed URL is atomic (no partial object is left by a failed PUT); the
parts of multipart uploads never completed are removed by the bucket's lifecycle rule
(``AbortIncompleteMultipartUpload``, terraform/modules/storage).
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aksio import deadlines, log
from aksio import firestore as fs
from aksio.config import get_config
from aksio.documents import repository, signing

if TYPE_CHECKING:
    from google.cloud.firestore import Client

_log = log.get_logger("aksio.documents")
SWEEP_LIMIT = 20  # abandoned uploads looked at per create-upload


def abandoned_after() -> timedelta:
    return signing.EXPIRY + timedelta(seconds=get_config().event_max_age_seconds)


def discard_object(bucket: Any, name: str | None, generation: int | None = None) -> None:
    """Delete the object (only that generation, when given); gone already is fine."""
    if not name:
        return
    from google.api_core import exceptions as gexc

    with contextlib.suppress(gexc.NotFound, gexc.PreconditionFailed):
        bucket.blob(name).delete(
            if_generation_match=generation, timeout=deadlines.STORAGE_TIMEOUT_S, retry=deadlines.storage_retry()
        )


def sweep_abandoned(db: Client, bucket: Any, uid: str, now: datetime | None = None) -> list[str]:
    """Delete the user's uploads abandoned before ``now - abandoned_after()``; their ids."""
    cutoff = (now or fs.utcnow()) - abandoned_after()
    swept: list[str] = []
    for doc in repository.awaiting_upload(db, uid, SWEEP_LIMIT):
        if doc.created_at is None or doc.created_at > cutoff:
            continue

        def run(tx: Any, doc_id: str = doc.id) -> bool:
            current = repository.get_in(tx, db, uid, doc_id)
            if current is None or current.status != "awaiting_upload" or current.deleted:
                return False
            repository.delete_in(tx, db, uid, doc_id)
            return True

        discard_object(bucket, doc.object_path)  # first: a record is never gone while its object stays
        if fs.run_transaction(db, run, what="abandoned upload sweep"):
            swept.append(doc.id)
    if swept:
        _log.info("abandoned uploads deleted", extra={"count": len(swept)})
    return swept
