"""Export of everything an account holds: one ZIP built by a Cloud Tasks job.

``POST /account/exports`` records an export (``users/{uid}/exports/{id}``, one at a time:
another one while it is queued or running is a 409) and enqueues its task; the
``account-jobs`` function builds the ZIP, writing its progress to the record as it goes:

- ``profile.json``: the user document (profile, settings, plan and billing state, stats);
- ``data/<collection>.json``: every document under ``users/{uid}``, one file per collection
  (``decks``, ``cards`` with their schedules, ``reviews``, ``documents``, ``chats``,
  ``messages``, ``jobs``, ``devices`` without their push tokens, ``notifications``, ``usage``,
  ``activity``, and any collection added later), each record with its ``id`` and ``path``.
  Derived data (a document's chunks and search index) is left out: its original is in
- ``files/<documentId>/<filename>``: the original uploaded files;
- ``decks/<name>.apkg``: each deck as an Anki package (basic and cloze notes, via genanki).

The ZIP goes to ``exports/{uid}/{id}.zip`` in the upload bucket; the record's view holds a
signed download URL valid :data:`LINK_VALIDITY`. The bucket deletes objects under
``exports/`` :data:`FILE_KEEP` after they were written (a lifecycle rule, terraform); the view
says ``expired`` from then on. A task delivered twice builds the same ZIP again (same object
name), and a finished export is not built again.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import tempfile
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aksio import deadlines, errors, log
from aksio import firestore as fs
from aksio.account import activity
from aksio.account import repository as repo
from aksio.wire import compact, iso

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

_log = log.get_logger("aksio.account.export")
Json = dict[str, Any]
Enqueue = Callable[[str, str], bool]
LINK_VALIDITY = timedelta(hours=1)
FILE_KEEP = timedelta(days=7)
RECORD_KEEP = timedelta(days=365)
STALE = timedelta(minutes=30)  # a running export not updated for this long no longer blocks another
PREFIX = "exports/{uid}/"
UPLOAD_TIMEOUT_S = (3.05, 120.0)  # connect, then each read of the upload's answer
SKIP = frozenset({"chunks", "index"})  # derived from the documents, whose originals are exported
SECRET_FIELDS = {"devices": ("token",)}


CONTENT_TYPES = {"zip": "application/zip", "apkg": "application/octet-stream", "csv": "text/csv"}


def object_path(uid: str, export_id: str, fmt: str = "zip") -> str:
    return PREFIX.format(uid=uid) + f"{export_id}.{fmt}"


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


# -- the request and the view --------------------------------------------------------------


def default_enqueue(uid: str, export_id: str) -> bool:
    from aksio import tasks

    payload = {"kind": "export", "uid": uid, "exportId": export_id}
    return tasks.enqueue_call("account-jobs", f"acct-exp-{export_id}", payload)


def request(db: Client, uid: str, *, enqueue: Enqueue | None = None, deck: tuple[str, str] | None = None) -> Json:
    """Start an export of everything (or of one ``(deck id, format)``); 409 ``export_running``
    while another one is queued or running."""
    now = fs.utcnow()
    export_id = uuid.uuid4().hex

    def run(tx: Any) -> dict[str, Any]:
        from aksio.account import service as account

        account.refuse_if_deleted_in(tx, db, uid)
        for other, data in repo.running_exports_in(tx, db, uid):
            updated = data.get("updatedAt")
            if isinstance(updated, datetime) and now - updated < STALE:
                raise errors.Conflict(
                    "An export is already being made; wait for it to finish.",
                    code="export_running",
                    details={"exportId": other},
                )
        doc = {
            "status": "queued",
            "progress": {"stage": "queued", "done": 0, "total": 0},
            "createdAt": now,
            "updatedAt": now,
            "expireAt": now + RECORD_KEEP,
        }
        if deck is not None:
            doc |= {"deckId": deck[0], "format": deck[1]}
        repo.create_export_in(tx, db, uid, export_id, doc)
        activity.record_in(tx, db, uid, "export_requested", export_id, details={"exportId": export_id})
        return doc

    doc = fs.run_transaction(db, run, what="export request")
    try:
        (enqueue or default_enqueue)(uid, export_id)
    except Exception:
        repo.update_export(db, uid, export_id, {"status": "failed", "error": "could not start", "updatedAt": now})
        raise
    return view(export_id, doc)


def request_deck(db: Client, uid: str, deck_id: str, fmt: str, *, enqueue: Enqueue | None = None) -> Json:
    """Start an export of one deck as ``apkg`` or ``csv`` (Anki's text format: importable by
    Anki and by :mod:`aksio.account.imports`). 404 for no such deck; one export at a time."""
    from aksio.study import service as study

    study.get_deck(db, uid, deck_id)  # 404 first
    return request(db, uid, enqueue=enqueue, deck=(deck_id, fmt))


def deck_csv(cards: Iterable[Json]) -> bytes:
    """Cards as Anki's text export: comma separated, tags in column 3, a cloze note once."""
    import csv
    import io

    out = io.StringIO()
    out.write("#separator:comma\n#html:false\n#tags column:3\n")
    writer = csv.writer(out, lineterminator="\n")
    seen: set[str] = set()
    for card in cards:
        tags = " ".join(str(t) for t in card.get("tags") or [])
        if card.get("kind") == "cloze" and card.get("text"):
            key = str(card.get("noteId") or card["id"])
            if key not in seen:
                seen.add(key)
                writer.writerow([card["text"], "", tags])
            continue
        writer.writerow([card.get("front", ""), card.get("back", ""), tags])
    return out.getvalue().encode()


def view(export_id: str, data: dict[str, Any], *, download: Callable[[str], str] | None = None) -> Json:
    now = fs.utcnow()
    status = str(data.get("status", "queued"))
    expires = data.get("fileExpiresAt")
    if status == "succeeded" and isinstance(expires, datetime) and now >= expires:
        status = "expired"
    url = None
    if status == "succeeded" and download is not None and data.get("objectPath"):
        url = download(str(data["objectPath"]))
    return compact(
        {
            "id": export_id,
            "status": status,
            "deckId": data.get("deckId"),
            "format": data.get("format", "zip"),
            "progress": data.get("progress"),
            "counts": data.get("counts"),
            "sizeBytes": data.get("sizeBytes"),
            "error": data.get("error"),
            "createdAt": iso(data.get("createdAt")),
            "completedAt": iso(data.get("completedAt")),
            "fileExpiresAt": iso(expires),
            "downloadUrl": url,
            "downloadExpiresAt": iso(now + LINK_VALIDITY) if url else None,
        }
    )


def _signed(uid: str) -> Callable[[str], str]:
    def sign(path: str) -> str:
        name = "aksio-export." + path.rsplit(".", 1)[-1]
        from aksio.clients import storage_client
        from aksio.config import get_config
        from aksio.documents import signing

        bucket = storage_client().bucket(get_config().upload_bucket)
        return signing.sign_get(bucket, path, LINK_VALIDITY, filename=name)

    return sign


def get(db: Client, uid: str, export_id: str) -> Json:
    data = repo.read_export(db, uid, export_id)
    if data is None:
        raise errors.NotFound(f"No export {export_id}.", code="export_not_found")
    return view(export_id, data, download=_signed(uid))


def page(db: Client, uid: str, cursor: str | None, limit: int) -> Json:
    snaps, next_cursor = repo.page_exports(db, uid, cursor, limit)
    return compact({"exports": [view(s.id, fs.data_of(s)) for s in snaps], "nextCursor": next_cursor})


# -- building the ZIP ----------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A Firestore value as JSON data."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def collect(db: Client, uid: str) -> tuple[dict[str, Any], dict[str, list[Json]]]:
    """The user document and every record under it, by collection id."""
    (root, user), tree = repo.walk_user(db, uid, SKIP)
    profile = plain(user or {})
    kinds: dict[str, list[Json]] = defaultdict(list)
    prefix = root + "/"
    for kind, ref, data in tree:
        for secret in SECRET_FIELDS.get(kind, ()):
            data.pop(secret, None)
        kinds[kind].append({"id": ref.id, "path": ref.path.removeprefix(prefix)} | plain(data))
    return profile, dict(kinds)


_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_name(name: str, fallback: str) -> str:
    cleaned = _UNSAFE.sub("_", name).strip(" .")[:80]
    return cleaned or fallback


def anki_packages(decks: Iterable[Json], cards: Iterable[Json], reviews: Iterable[Json] = ()) -> dict[str, bytes]:
    """Each deck as ``.apkg`` bytes, by file name: a basic card is a Basic note, the cards of
    one cloze note are one Cloze note; a reviewed card keeps its FSRS state and review logs."""
    from aksio.account import anki

    by_card: dict[str, list[Json]] = defaultdict(list)
    for entry in reviews:
        by_card[str(entry.get("cardId"))].append(entry)
    by_deck: dict[str, list[Json]] = defaultdict(list)
    for card in cards:
        by_deck[str(card.get("deckId"))].append(card)
    out: dict[str, bytes] = {}
    for deck in decks:
        name = str(deck.get("name") or deck["id"])
        file = f"decks/{safe_name(name, deck['id'])}.apkg"
        if file in out:
            file = f"decks/{safe_name(name, deck['id'])}-{deck['id']}.apkg"
        out[file] = anki.package(deck["id"], name, by_deck.get(deck["id"], []), reviews=by_card)
    return out


class Progress:
    def __init__(self, db: Client, uid: str, export_id: str) -> None:
        self.db, self.uid, self.export_id = db, uid, export_id

    def __call__(self, stage: str, done: int, total: int) -> None:
        changes = {"progress": {"stage": stage, "done": done, "total": total}, "updatedAt": fs.utcnow()}
        repo.update_export(self.db, self.uid, self.export_id, changes)


def build(db: Client, bucket: Any, uid: str, out: Any, progress: Callable[[str, int, int], None]) -> dict[str, int]:
    """Write the ZIP of everything of ``uid`` to file object ``out``; returns counts by kind."""
    from google.api_core import exceptions as gexc

    progress("data", 0, 1)
    profile, kinds = collect(db, uid)
    counts = {kind: len(records) for kind, records in sorted(kinds.items())}
    documents = [d for d in kinds.get("documents", []) if d.get("objectPath") and not d.get("deleted")]
    decks = kinds.get("decks", [])
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("profile.json", json.dumps(profile, indent=1, ensure_ascii=False))
        for kind, records in sorted(kinds.items()):
            z.writestr(f"data/{kind}.json", json.dumps(records, indent=1, ensure_ascii=False))
        progress("files", 0, len(documents))
        files = 0
        for n, doc in enumerate(documents, 1):
            name = safe_name(str(doc.get("filename") or "file"), "file")
            try:
                data = bucket.blob(str(doc["objectPath"])).download_as_bytes(timeout=UPLOAD_TIMEOUT_S)
            except gexc.NotFound:
                continue  # deleted meanwhile, or never uploaded
            z.writestr(f"files/{doc['id']}/{name}", data)
            files += 1
            progress("files", n, len(documents))
        progress("decks", 0, len(decks))
        for file, data in anki_packages(decks, kinds.get("cards", []), kinds.get("reviews", [])).items():
            z.writestr(file, data)
        progress("decks", len(decks), len(decks))
    return counts | {"files": files, "apkg": len(decks)}


def build_deck(db: Client, uid: str, deck_id: str, fmt: str, out: Any) -> dict[str, int]:
    """Write one deck as ``apkg`` or ``csv`` to ``out``."""
    from aksio.account import anki
    from aksio.study import portability

    deck, cards = portability.deck_with_cards(db, uid, deck_id)
    plain_cards = [plain(c) for c in cards]
    if fmt == "apkg":
        reviews = portability.review_logs_by_card(db, uid, [str(c["id"]) for c in cards])
        retention = portability.desired_retention(db, uid)
        name = str(deck.get("name") or deck_id)
        out.write(anki.package(deck_id, name, plain_cards, retention=retention, reviews=plain(reviews)))
    else:
        out.write(deck_csv(plain_cards))
    return {"cards": len(cards)}


def run(db: Client, uid: str, export_id: str) -> str:
    """The export task: ``done``, ``duplicate`` (built before), ``no_export``, ``account_deleted``."""
    from aksio.account import service as account
    from aksio.clients import storage_client
    from aksio.config import get_config

    data = repo.read_export(db, uid, export_id)
    if data is None:
        return "no_export"
    if data.get("status") in ("succeeded", "failed"):
        return "duplicate"
    if account.is_deleted(db, uid):
        return "account_deleted"
    repo.update_export(db, uid, export_id, {"status": "running", "updatedAt": fs.utcnow()})
    bucket = storage_client().bucket(get_config().upload_bucket)
    fmt = str(data.get("format") or "zip")
    path = object_path(uid, export_id, fmt)
    with tempfile.TemporaryFile() as out:
        if data.get("deckId"):
            counts = build_deck(db, uid, str(data["deckId"]), fmt, out)
        else:
            counts = build(db, bucket, uid, out, Progress(db, uid, export_id))
        size = out.tell()
        out.seek(0)
        bucket.blob(path).upload_from_file(out, content_type=CONTENT_TYPES[fmt], timeout=UPLOAD_TIMEOUT_S, size=size)
    now = fs.utcnow()
    repo.update_export(
        db,
        uid,
        export_id,
        {
            "status": "succeeded",
            "objectPath": path,
            "sizeBytes": size,
            "counts": counts,
            "progress": {"stage": "done", "done": 1, "total": 1},
            "completedAt": now,
            "fileExpiresAt": now + FILE_KEEP,
            "updatedAt": now,
        },
    )
    _log.info("export made", extra={"exportId": export_id, "bytes": size})
    return "done"
