"""The study domain's exchange with account portability: importing notes into a deck, and
reading a deck with all its cards for an export (``.apkg``, CSV). Part of the study service."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aksio import firestore as fs
from aksio.study import queries as q
from aksio.study.model import Content, Schedule, cloze_cards, new_card, note_id
from aksio.study.repository import FirestoreStudy, StudyTx
from aksio.study.service import live_deck

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client


def import_notes(
    db: Client,
    uid: str,
    deck_id: str,
    notes: Sequence[tuple[str, str, str | None, Sequence[str]]],
    *,
    schedules: Sequence[Mapping[int, Schedule]] | None = None,
    batch: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Create the cards of ``notes`` (``(front, back, cloze text or None, tags)``) in deck
    ``deck_id``, ``batch`` cards per transaction; returns ``(created, already there)``. Card
    ids follow from the content, so running it again (a retried import) creates only what is
    missing: an import interrupted part way is finished by its retry. ``schedules`` (one map
    per note: 0 for a basic card, the cloze number for a cloze card) gives cards their
    schedule (an imported review history); the others start new. The user's ``nextDueAt`` is
    lowered to the earliest due of the scheduled cards, in the transaction that creates them.
    ``progress(cards done, cards in all)`` is called after each batch."""
    now = fs.utcnow()
    docs: dict[str, dict[str, Any]] = {}
    for n, (front, back, cloze, tags) in enumerate(notes):
        contents = cloze_cards(cloze) if cloze is not None else [Content(front=front, back=back)]
        note = note_id(deck_id, cloze) if cloze is not None else None
        of_note = schedules[n] if schedules is not None else {}
        for content in contents:
            card_id, doc = new_card(
                deck_id, content, note=note, tags=[*tags, "imported"], now=now + timedelta(microseconds=len(docs))
            )
            schedule = of_note.get(content.cloze_index or 0)
            if schedule is not None and card_id not in docs:
                doc |= dataclasses.replace(schedule, tags=tuple(doc["tags"])).to_stored()
            docs.setdefault(card_id, doc)
    items = list(docs.items())
    created = 0
    for start in range(0, len(items), batch):
        part = items[start : start + batch]

        def create(tx: StudyTx, part: list[tuple[str, dict[str, Any]]] = part) -> int:
            live_deck(tx.deck(deck_id), deck_id)
            present = tx.cards([cid for cid, _ in part])
            fresh = [(cid, doc) for cid, doc in part if present.get(cid) is None]
            dues = [doc["due"] for _, doc in fresh if doc.get("state") != "new" and doc.get("due") is not None]
            if dues:  # scheduled cards: the user's next due may come sooner
                _, user, _ = tx.card_and_user(part[0][0], user=True)
                current = (user or {}).get("nextDueAt")
                if current is None or min(dues) < current:
                    tx.set_next_due(min(dues))
            for cid, doc in fresh:
                tx.create_card(cid, doc)
            return len(fresh)

        created += FirestoreStudy(db, uid).run(create, what="card import")
        if progress is not None:
            progress(start + len(part), len(items))
    return created, len(items) - created


def deck_with_cards(db: Client, uid: str, deck_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A live deck's fields and all its cards' stored fields (with ``id``), oldest first
    (404 for a deck that is not there)."""
    deck = live_deck(q.read_deck(db, uid, deck_id), deck_id)
    cards: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        snaps, cursor = q.page_cards(db, uid, deck_id, cursor, 500)
        cards += [fs.data_of(s) | {"id": s.id} for s in snaps]
        if cursor is None:
            return deck, cards


def review_logs_by_card(db: Client, uid: str, card_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The review logs of ``card_ids``, by card id."""
    out: dict[str, list[dict[str, Any]]] = {}
    for log in q.card_review_logs(db, uid, card_ids):
        out.setdefault(str(log.get("cardId")), []).append(log)
    return out


def desired_retention(db: Client, uid: str) -> float:
    """The user's desired retention (what their reviews schedule with)."""
    from aksio import prefs
    from aksio.study.reviews import scheduler_config

    user = fs.read_user(db, uid)
    return float(scheduler_config(user, prefs.of_user(user)).desired_retention)
