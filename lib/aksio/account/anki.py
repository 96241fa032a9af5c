"""Decks as Anki packages (``.apkg``), written by genanki: a basic card is a note of the
Basic type (Front, Back), the cards of one cloze note are one note of the Cloze type (Text).
Ids are derived from ours, so exporting a deck twice gives notes Anki recognises as the same
(a re-import updates them instead of duplicating them)."""

from __future__ import annotations

import hashlib
import html
import os
import tempfile
from typing import Any

# Fixed model ids: the same note types in every package we write.
BASIC_MODEL_ID = 1_607_392_319
CLOZE_MODEL_ID = 1_607_392_320


def _int_id(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16) % (1 << 47) + 1


def field(text: Any) -> str:
    """Plain text as an Anki field (HTML): escaped, line breaks as ``<br>``."""
    return html.escape(str(text or "")).replace("\n", "<br>")


def package(deck_id: str, name: str, cards: list[dict[str, Any]]) -> bytes:
    """The ``.apkg`` bytes of one deck."""
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
            return f.read()
    finally:
        os.unlink(path)
