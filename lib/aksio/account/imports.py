"""Importing cards from a text file (Quizlet's export, Anki's text export, CSV/TSV) or an
Anki package (``.apkg``, :mod:`aksio.account.apkg`).

1. ``POST /account/imports`` records the import (``users/{uid}/imports/{id}``, status
   ``awaiting_upload``) and answers a signed PUT URL (15 minutes) for
   ``imports/{uid}/{id}`` in the upload bucket, bounded to :data:`MAX_BYTES`;
2. the client PUTs the file, then ``POST /account/imports/{id}/start`` (202) enqueues the
   job (asking again answers the same import);
3. the job (``account-jobs``) parses the whole file first (:mod:`.textimport`): a file with
   bad lines fails with their numbers and writes no card; then it creates the deck (named
   in the request, its id derived from the import) and the cards, a batch per transaction.
   Card ids follow from their content, so a job interrupted part way is finished by its retry
   and nothing is created twice. The file is deleted once the import ended.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aksio import errors, log
from aksio import firestore as fs
from aksio.account import activity
from aksio.account import repository as repo
from aksio.wire import compact, iso

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

_log = log.get_logger("aksio.account.imports")
Json = dict[str, Any]
MAX_BYTES = 200 * 1024 * 1024
PREFIX = "imports/{uid}/"
RECORD_KEEP = timedelta(days=365)
TERMINAL = ("succeeded", "failed")


def object_path(uid: str, import_id: str) -> str:
    return PREFIX.format(uid=uid) + import_id


def _bucket() -> Any:
    from aksio.clients import storage_client
    from aksio.config import get_config

    return storage_client().bucket(get_config().upload_bucket)


def view(import_id: str, data: dict[str, Any]) -> Json:
    return compact(
        {
            "id": import_id,
            "status": data.get("status", "awaiting_upload"),
            "filename": data.get("filename"),
            "deckId": data.get("deckId"),
            "deckName": data.get("deckName"),
            "progress": data.get("progress"),
            "result": data.get("result"),
            "error": data.get("error"),
            "createdAt": iso(data.get("createdAt")),
            "completedAt": iso(data.get("completedAt")),
        }
    )


def create(db: Client, uid: str, body: Any) -> Json:
    """The import and the signed URL to upload its file to."""
    from aksio.documents import signing

    if body.size_bytes > MAX_BYTES:
        raise errors.TooLarge(f"An import file may have at most {MAX_BYTES} bytes.", code="file_too_large")
    import_id, now = uuid.uuid4().hex, fs.utcnow()
    doc = {
        "status": "awaiting_upload",
        "filename": body.filename,
        "contentType": body.content_type,
        "deckName": body.deck_name,
        "deckId": import_id[:20],
        "createdAt": now,
        "updatedAt": now,
        "expireAt": now + RECORD_KEEP,
    }
    repo.create_import(db, uid, import_id, doc)
    # signed for the declared size, once (like a document upload: aksio.documents.signing)
    signed = signing.sign_put(_bucket(), object_path(uid, import_id), body.content_type, body.size_bytes, now=now)
    upload = {"url": signed.url, "method": signed.method, "headers": signed.headers}
    upload["expiresAt"] = iso(signed.expires_at)
    return {"import": view(import_id, doc), "upload": upload}


def get(db: Client, uid: str, import_id: str) -> Json:
    data = repo.read_import(db, uid, import_id)
    if data is None:
        raise errors.NotFound(f"No import {import_id}.", code="import_not_found")
    return view(import_id, data)


def default_enqueue(uid: str, import_id: str) -> bool:
    from aksio import tasks

    payload = {"kind": "import", "uid": uid, "importId": import_id}
    return tasks.enqueue_call("account-jobs", f"acct-imp-{import_id}", payload)


def start(db: Client, uid: str, import_id: str, *, enqueue: Any = None) -> Json:
    """Queue the import once its file is uploaded (409 ``upload_missing`` before)."""
    data = repo.read_import(db, uid, import_id)
    if data is None:
        raise errors.NotFound(f"No import {import_id}.", code="import_not_found")
    if data.get("status") == "awaiting_upload":
        blob = _bucket().get_blob(object_path(uid, import_id))
        if blob is None:
            raise errors.Conflict("Upload the file first, then start the import.", code="upload_missing")
        repo.update_import(db, uid, import_id, {"status": "queued", "updatedAt": fs.utcnow()})
        data = data | {"status": "queued"}
    if data.get("status") == "queued":
        (enqueue or default_enqueue)(uid, import_id)
    return view(import_id, data)


class Progress:
    """Writes an import's ``progress`` (cards done, cards in all): the first call at once,
    then at most once a second (``interval``), so a long import shows it rising."""

    def __init__(self, db: Client, uid: str, import_id: str, interval: float = 1.0) -> None:
        self.db, self.uid, self.import_id, self.interval = db, uid, import_id, interval
        self.last: float | None = None

    def __call__(self, done: int, total: int) -> None:
        import time

        now = time.monotonic()
        if self.last is not None and now - self.last < self.interval and done < total:
            return
        self.last = now
        changes = {"progress": {"done": done, "total": total}, "updatedAt": fs.utcnow()}
        repo.update_import(self.db, self.uid, self.import_id, changes)


def _fail(db: Client, uid: str, import_id: str, error: errors.AppError) -> str:
    failure = compact({"code": error.code, "message": error.message, "details": error.details})
    repo.update_import(
        db, uid, import_id, {"status": "failed", "error": failure, "completedAt": fs.utcnow(), "updatedAt": fs.utcnow()}
    )
    return "failed"


def run(db: Client, uid: str, import_id: str) -> str:  # noqa: PLR0911 - one return per outcome
    """The import task: ``done``, ``failed`` (recorded with its reason), ``duplicate``,
    ``no_import``, ``account_deleted``."""
    from google.api_core import exceptions as gexc

    from aksio.account import service as account
    from aksio.account import textimport
    from aksio.study import api as study_api
    from aksio.study import portability
    from aksio.study import service as study

    data = repo.read_import(db, uid, import_id)
    if data is None:
        return "no_import"
    if data.get("status") in TERMINAL:
        return "duplicate"
    if account.is_deleted(db, uid):
        return "account_deleted"
    repo.update_import(db, uid, import_id, {"status": "running", "updatedAt": fs.utcnow()})
    blob = _bucket().blob(object_path(uid, import_id))
    try:
        content = blob.download_as_bytes(timeout=(3.05, 120.0))
    except gexc.NotFound:
        return _fail(db, uid, import_id, errors.Invalid("The uploaded file is gone.", code="upload_missing"))
    if len(content) > MAX_BYTES:
        return _fail(db, uid, import_id, errors.TooLarge(f"Over {MAX_BYTES} bytes.", code="file_too_large"))
    extra: dict[str, Any] = {}
    schedules: list[dict[int, Any]] | None = None
    try:
        if content[:2] == b"PK":  # a ZIP: an Anki package
            from aksio.account import apkg

            package = apkg.parse(content)
            notes_found = package.notes
            schedules = _schedules(db, uid, package.histories)
            scheduled = sum(len(s) for s in schedules)
            extra = {"mediaSkipped": package.media_skipped, "notesSkipped": package.skipped_empty}
            extra |= {"reviewsRead": package.reviews, "cardsScheduled": scheduled}
        else:
            notes_found = textimport.parse(content).notes
    except errors.Invalid as bad:
        _delete_file(blob)
        return _fail(db, uid, import_id, bad)
    deck_id = str(data["deckId"])
    name = str(data.get("deckName") or data.get("filename") or "Imported")[:100]
    study.create_deck(db, uid, study_api.NewDeck(id=deck_id, name=name))
    notes = [(n.front, n.back, n.cloze, n.tags) for n in notes_found]
    report = Progress(db, uid, import_id)
    created, existing = portability.import_notes(db, uid, deck_id, notes, schedules=schedules, progress=report)
    now = fs.utcnow()
    result = {"notes": len(notes_found), "cardsCreated": created, "cardsExisting": existing} | extra

    def finish(tx: Any) -> None:
        repo.update_import(
            db, uid, import_id, {"status": "succeeded", "result": result, "completedAt": now, "updatedAt": now}, tx
        )
        activity.record_in(tx, db, uid, "import_done", import_id, details={"importId": import_id, "deckId": deck_id})

    fs.run_transaction(db, finish, what="import finish")
    _delete_file(blob)
    _log.info("import done", extra={"importId": import_id, "notes": len(notes_found), "cardsCreated": created})
    return "done"


def _schedules(db: Client, uid: str, histories: list[dict[int, Any]]) -> list[dict[int, Any]]:
    """Each note's cards' schedules from their Anki review history (cards without a review
    are left out: they start new), with the user's FSRS parameters and desired retention."""
    from aksio import prefs
    from aksio.account import revlog
    from aksio.study.reviews import scheduler_config

    user = fs.read_user(db, uid)
    config = scheduler_config(user, prefs.of_user(user))
    keys = [(n, key) for n, of_note in enumerate(histories) for key in of_note]
    made = revlog.schedules(
        [histories[n][key] for n, key in keys], parameters=config.parameters, retention=config.desired_retention
    )
    out: list[dict[int, Any]] = [{} for _ in histories]
    for (n, key), schedule in zip(keys, made, strict=True):
        if schedule is not None:
            out[n][key] = schedule
    return out


def _delete_file(blob: Any) -> None:
    from google.api_core import exceptions as gexc

    with contextlib.suppress(gexc.NotFound):
        blob.delete()


def delete_user_files(bucket: Any, uid: str) -> int:
    """Account deletion: import files not yet deleted."""
    from google.api_core import exceptions as gexc

    deleted = 0
    for blob in bucket.client.list_blobs(bucket, prefix=PREFIX.format(uid=uid)):
        with contextlib.suppress(gexc.NotFound):
            blob.delete()
            deleted += 1
    return deleted
