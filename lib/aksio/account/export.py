"""Export of everything an account holds (built by the account-jobs function)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from aksio import deadlines

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

PREFIX = "users/{uid}/exports/"


def delete_user_files(bucket: Any, uid: str) -> int:
    """Account deletion: every export file of the user."""
    from google.api_core import exceptions as gexc

    deleted = 0
    blobs = bucket.client.list_blobs(bucket, prefix=PREFIX.format(uid=uid), timeout=deadlines.STORAGE_TIMEOUT_S)
    for blob in blobs:
        with contextlib.suppress(gexc.NotFound):
            blob.delete(timeout=deadlines.STORAGE_TIMEOUT_S, retry=deadlines.storage_retry())
            deleted += 1
    return deleted


def run(db: Client, uid: str, export_id: str) -> str:
    return "no_export"
