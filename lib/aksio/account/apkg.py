"""Notes from an Anki package (``.apkg``): the legacy ``collection.anki2``/``.anki21`` and the
current ``collection.anki21b`` (zstd-compressed SQLite), read with the standard library's
sqlite3. Basic notes become front and back, cloze notes (a Cloze note type in a legacy
collection, or ``{{cN::...}}`` in the first field) cloze notes; HTML is reduced to plain text;
media files are skipped and counted. Bounds: not a ZIP, no collection, a corrupt SQLite file,
a ZIP bomb (more than :data:`MAX_UNPACKED` bytes unpacked), more than
:data:`aksio.account.textimport.MAX_NOTES` notes: each refused with a readable reason.
Each note's cards carry their review history (:class:`aksio.account.revlog.History`, keyed 0
for a basic note's first card, the cloze number for a cloze card), which the import turns
into an FSRS schedule.
"""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import Any

from aksio import errors
from aksio.account.revlog import Entry, History, memory_of
from aksio.account.textimport import MAX_NOTES, Note, plain_text

MAX_UNPACKED = 1024 * 1024 * 1024  # the collection, unpacked
COLLECTIONS = ("collection.anki21b", "collection.anki21", "collection.anki2")  # newest first
_CLOZE = re.compile(r"\{\{c\d+::")
_CHUNK = 1024 * 1024


@dataclass
class Package:
    notes: list[Note] = field(default_factory=list)
    media_skipped: int = 0
    skipped_empty: int = 0
    collection: str = ""
    histories: list[dict[int, History]] = field(default_factory=list)  # one per note
    reviews: int = 0  # revlog rows read


def _bounded_read(stream: Any, limit: int) -> bytes:
    out = io.BytesIO()
    while chunk := stream.read(_CHUNK):
        out.write(chunk)
        if out.tell() > limit:
            raise errors.Invalid(f"The package unpacks to more than {limit} bytes; refused.", code="zip_bomb")
    return out.getvalue()


def _collection(z: zipfile.ZipFile, limit: int) -> tuple[str, bytes]:
    names = set(z.namelist())
    name = next((n for n in COLLECTIONS if n in names), None)
    if name is None:
        raise errors.Invalid("The package holds no Anki collection.", code="no_collection")
    if z.getinfo(name).file_size > limit:
        raise errors.Invalid(f"The package unpacks to more than {limit} bytes; refused.", code="zip_bomb")
    with z.open(name) as raw:
        if name.endswith("anki21b"):
            import zstandard

            try:
                with zstandard.ZstdDecompressor().stream_reader(raw) as unpacked:
                    return name, _bounded_read(unpacked, limit)
            except zstandard.ZstdError:
                bad = "The collection is not readable (bad compression)."
                raise errors.Invalid(bad, code="corrupt_collection") from None
        return name, _bounded_read(raw, limit)


Rows = list[tuple[int, Any, str, str]]
Cards = dict[int, dict[int, History]]  # note id -> card ordinal -> history


def _histories(con: sqlite3.Connection) -> tuple[Cards, int]:
    entries: dict[int, list[Entry]] = {}
    count = 0
    for cid, at_ms, ease, kind, ivl, factor in con.execute("select cid, id, ease, type, ivl, factor from revlog"):
        entries.setdefault(int(cid), []).append(Entry(int(at_ms), int(ease), int(kind), int(ivl), int(factor or 0)))
        count += 1
    cards: Cards = {}
    for cid, nid, ord_, ctype, ivl, data in con.execute("select id, nid, ord, type, ivl, data from cards"):
        history = History(tuple(entries.get(int(cid), ())), int(ctype), int(ivl), memory_of(data))
        cards.setdefault(int(nid), {})[int(ord_)] = history
    return cards, count


def _rows(db_bytes: bytes) -> tuple[dict[str, Any], Rows, Cards, int]:
    fd, path = tempfile.mkstemp(suffix=".anki2")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(db_bytes)
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            models: dict[str, Any] = {}
            try:
                stored = con.execute("select models from col").fetchone()
                models = json.loads(stored[0]) if stored and stored[0] else {}
            except (sqlite3.OperationalError, ValueError):
                models = {}  # the current schema keeps note types in their own table
            count = con.execute("select count(*) from notes").fetchone()[0]
            if count > MAX_NOTES:
                raise errors.Invalid(f"At most {MAX_NOTES} notes per import ({count} here).", code="too_many_notes")
            query = "select id, mid, tags, flds from notes order by id"
            rows = [(int(r[0]), r[1], str(r[2] or ""), str(r[3] or "")) for r in con.execute(query)]
            cards, reviews = _histories(con)
        finally:
            con.close()
    except sqlite3.DatabaseError:
        raise errors.Invalid("The collection is not a readable SQLite database.", code="corrupt_collection") from None
    finally:
        os.unlink(path)
    return models, rows, cards, reviews


def parse(data: bytes, *, limit: int = MAX_UNPACKED) -> Package:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise errors.Invalid("The file is not an Anki package (not a ZIP).", code="not_a_zip")
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        name, db_bytes = _collection(z, limit)
        media = sum(1 for n in z.namelist() if n.isdigit())
    except (zipfile.BadZipFile, EOFError, OSError):
        raise errors.Invalid("The package is a damaged ZIP.", code="not_a_zip") from None
    models, rows, cards, reviews = _rows(db_bytes)
    out = Package(media_skipped=media, collection=name, reviews=reviews)
    for n, (nid, mid, tags, flds) in enumerate(rows, 1):
        of_note = cards.get(nid, {})
        fields = [plain_text(f) for f in flds.split("\x1f")]
        model = models.get(str(mid)) or {}
        front = fields[0] if fields else ""
        raw_front = flds.split("\x1f")[0]
        if model.get("type") == 1 or _CLOZE.search(raw_front):
            if _CLOZE.search(front):
                out.notes.append(Note(n, cloze=front, tags=tuple(tags.split())))
                out.histories.append({ord_ + 1: h for ord_, h in of_note.items()})  # card ord k: cloze k+1
            else:
                out.skipped_empty += 1
            continue
        back = "\n".join(f for f in fields[1:] if f)
        if front and back:
            out.notes.append(Note(n, front=front, back=back, tags=tuple(tags.split())))
            out.histories.append({0: of_note[0]} if 0 in of_note else {})
        else:
            out.skipped_empty += 1
    return out
