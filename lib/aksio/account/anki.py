"""Decks as Anki packages (``.apkg``), written by genanki: a basic card is a note of the
Basic type (Front, Back), the cards of one cloze note are one note of the Cloze type (Text).
Ids are derived from ours, so exporting a deck twice gives notes Anki recognises as the same
(a re-import updates them instead of duplicating them).

A card that is not new keeps its place (:func:`schedule_columns`): its ``cards`` row gets the
type, queue, interval, due, reps and lapses Anki reads, and ``data`` the FSRS memory state as
Anki 23.10+ stores it (rslib ``CardData``: ``{"s": stability, "d": difficulty, "dr": desired
retention}``)."""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import sqlite3
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

Reviews = Mapping[str, Sequence[dict[str, Any]]]  # our review logs by card id

# Fixed model ids: the same note types in every package we write.
BASIC_MODEL_ID = 1_607_392_319
CLOZE_MODEL_ID = 1_607_392_320


def _int_id(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16) % (1 << 47) + 1


def field(text: Any) -> str:
    """Plain text as an Anki field (HTML): escaped, line breaks as ``<br>``."""
    return html.escape(str(text or "")).replace("\n", "<br>")


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            return _time(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def schedule_columns(card: dict[str, Any], crt: int, retention: float) -> dict[str, Any] | None:
    """The ``cards`` columns of a card that is not new (None: leave it new). ``crt`` is the
    collection's creation (epoch seconds): a review card's ``due`` counts days from it, a
    learning card's is epoch seconds; ``ivl`` is the days from the last review to due."""
    state = card.get("state")
    stability, difficulty = card.get("stability"), card.get("difficulty")
    due = _time(card.get("due"))
    if state not in ("learning", "review", "relearning") or stability is None or difficulty is None or due is None:
        return None
    last = _time(card.get("lastReview")) or due
    kind = {"learning": 1, "review": 2, "relearning": 3}[state]
    if state == "review":
        ivl = max(1, round((due - last).total_seconds() / 86_400))
        due_col, queue = (int(due.timestamp()) - crt) // 86_400, 2
    else:
        ivl, due_col, queue = 0, int(due.timestamp()), 1
    data = {"s": float(stability), "d": float(difficulty), "dr": float(retention)}
    return {
        "type": kind,
        "queue": -1 if card.get("suspended") else queue,
        "ivl": ivl,
        "due": due_col,
        "reps": int(card.get("reps") or 0),
        "lapses": int(card.get("lapses") or 0),
        "left": 0 if state == "review" else 1,
        "data": json.dumps(data, separators=(",", ":")),
    }


_KIND = {"new": 0, "learning": 0, "review": 1, "relearning": 2}  # revlog type by the state before


def _ivl(schedule: Any, at: datetime) -> int:
    """A revlog interval: days (positive) for a review card, seconds (negative) otherwise."""
    if not isinstance(schedule, dict) or (due := _time(schedule.get("due"))) is None:
        return 0
    if schedule.get("state") == "review":
        return max(1, round((due - at).total_seconds() / 86_400))
    return -max(0, round((due - at).total_seconds()))


def revlog_rows(cid: int, logs: list[dict[str, Any]]) -> list[tuple[int, ...]]:
    """Our review logs of one card as Anki ``revlog`` rows (id, cid, usn, ease, ivl, lastIvl,
    factor, time, type), oldest first; an undone review is not one."""
    rows: list[tuple[int, ...]] = []
    for log in logs:
        at = _time(log.get("reviewedAt"))
        rating = log.get("rating")
        if at is None or log.get("undoneAt") or not isinstance(rating, int) or not 1 <= rating <= 4:
            continue
        before, after = log.get("before") or {}, log.get("after") or {}
        kind = _KIND.get(str(before.get("state") or "new"), 0)
        duration = min(max(0, int(log.get("durationMs") or 0)), 3_600_000)
        last = _time(before.get("lastReview")) or at
        ms = int(at.timestamp() * 1000)
        rows.append((ms, cid, -1, rating, _ivl(after, at), _ivl(before, last), 0, duration, kind))
    return sorted(rows)


def _card_key(card: dict[str, Any]) -> tuple[str, int]:
    """(note guid, card ord) of our card in the package."""
    if card.get("kind") == "cloze" and card.get("text"):
        return genanki_guid(str(card.get("noteId") or card["id"])), max(0, int(card.get("clozeIndex") or 1) - 1)
    return genanki_guid(str(card["id"])), 0


def genanki_guid(our_id: str) -> str:
    import genanki

    return str(genanki.guid_for("aksio", our_id))


def with_schedules(data: bytes, cards: list[dict[str, Any]], retention: float, reviews: Reviews) -> bytes:
    """The package ``data`` with each card's schedule and review logs written into its
    collection (a revlog id is the review's time in ms: one taken is moved a ms on)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    fd, path = tempfile.mkstemp(suffix=".anki2")
    os.close(fd)
    try:
        with open(path, "wb") as f:
            f.write(src.read("collection.anki2"))
        con = sqlite3.connect(path)
        try:
            (crt,) = con.execute("select crt from col").fetchone()
            rows = con.execute("select c.id, n.guid, c.ord from cards c join notes n on c.nid = n.id")
            ids = {(guid, ord_): cid for cid, guid, ord_ in rows}
            taken: set[int] = set()
            for card in cards:
                columns = schedule_columns(card, int(crt), retention)
                cid = ids.get(_card_key(card))
                if columns is None or cid is None:
                    continue
                sets = ", ".join(f"{k} = ?" for k in columns)
                con.execute(f"update cards set {sets} where id = ?", [*columns.values(), cid])  # noqa: S608
                for row in revlog_rows(cid, list(reviews.get(str(card["id"]), ()))):
                    rid = row[0]
                    while rid in taken:
                        rid += 1
                    taken.add(rid)
                    con.execute("insert into revlog values (?,?,?,?,?,?,?,?,?)", (rid, *row[1:]))
            con.commit()
        finally:
            con.close()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
            for name in src.namelist():
                if name == "collection.anki2":
                    with open(path, "rb") as f:
                        dst.writestr(name, f.read())
                else:
                    dst.writestr(name, src.read(name))
        return out.getvalue()
    finally:
        os.unlink(path)


def package(
    deck_id: str, name: str, cards: list[dict[str, Any]], retention: float = 0.9, reviews: Reviews | None = None
) -> bytes:
    """The ``.apkg`` bytes of one deck; ``reviews``: our review logs by card id."""
    import genanki

    basic = genanki.Model(
        BASIC_MODEL_ID,
        "Aksio Basic",
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[
            {
                "name": "Card 1",
                "qfmt": "{{Front}}",
                "afmt": '{{FrontSide}}<hr id="answer">{{Back}}',
            }
        ],
    )
    cloze = genanki.Model(
        CLOZE_MODEL_ID,
        "Aksio Cloze",
        fields=[{"name": "Text"}, {"name": "Back Extra"}],
        templates=[{"name": "Cloze", "qfmt": "{{cloze:Text}}", "afmt": "{{cloze:Text}}<br>{{Back Extra}}"}],
        model_type=genanki.Model.CLOZE,
    )
    deck = genanki.Deck(_int_id(f"deck/{deck_id}"), name)
    clozes: dict[str, str] = {}
    for card in sorted(cards, key=lambda c: str(c.get("id"))):
        tags = [str(t).replace(" ", "_") for t in card.get("tags") or []]
        if card.get("kind") == "cloze" and card.get("text"):
            clozes.setdefault(str(card.get("noteId") or card["id"]), str(card["text"]))
            continue
        note = genanki.Note(
            model=basic,
            fields=[field(card.get("front")), field(card.get("back"))],
            guid=genanki.guid_for("aksio", str(card["id"])),
            tags=tags,
        )
        deck.add_note(note)
    for note_id, text in sorted(clozes.items()):
        deck.add_note(genanki.Note(model=cloze, fields=[field(text), ""], guid=genanki.guid_for("aksio", note_id)))
    fd, path = tempfile.mkstemp(suffix=".apkg")
    os.close(fd)
    try:
        genanki.Package(deck).write_to_file(path)
        with open(path, "rb") as f:
            data = f.read()
    finally:
        os.unlink(path)
    if any(c.get("state") not in (None, "new") for c in cards):
        data = with_schedules(data, cards, retention, reviews or {})
    return data
