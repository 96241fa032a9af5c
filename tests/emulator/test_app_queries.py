"""Every query the app's repositories make, each in all its variants (with and without a deck, a cursor, a
filter), against an emulator enforcing the project's index file: each must be served, as production will serve it
only from terraform/firestore.indexes.json plus the automatic single-field indexes.

The e2e suite runs with the same check on (the stack enforces the file); this covers variants it may not reach.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from google.cloud import firestore

from aksio import paging
from aksio.chat import repository as chats
from aksio.documents import repository as documents
from aksio.generation import repository as generation
from aksio.reminders import repository as reminders
from aksio.study import queries as study
from aksio.study.repository import cards_col
from firestore_emulator import Emulator, start

INDEX_FILE = Path(__file__).resolve().parents[2] / "terraform" / "firestore.indexes.json"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
CURSOR = paging.encode(NOW, "some-id")
CARD = {"source": {"key": "k"}, "front": "What is ATP?"}

DECK = study.Scope(decks=("d",))
COURSE = study.Scope(decks=tuple(f"d{i}" for i in range(20)))  # more decks than one "in" holds
TAG = study.Scope(tag="biology")
DECK_TAG = study.Scope(decks=("d",), tag="biology")
COURSE_TAG = study.Scope(decks=("d1", "d2"), tag="biology")

QUERIES: dict[str, Callable[[firestore.Client], Any]] = {
    "study.page_decks": lambda db: study.page_decks(db, "u", None, 20),
    "study.page_decks cursor": lambda db: study.page_decks(db, "u", CURSOR, 20),
    "study.count_deck_cards": lambda db: study.count_deck_cards(db, "u", "d"),
    "study.sweep_deck": lambda db: study.sweep_deck(db, "u", "d", 10),
    "study.page_cards": lambda db: study.page_cards(db, "u", None, None, 20),
    "study.page_cards deck cursor": lambda db: study.page_cards(db, "u", "d", CURSOR, 20),
    "study.existing_card_ids": lambda db: study.existing_card_ids(db, "u", [("c", CARD)], 30),
    "study.mark_source_removed": lambda db: study.mark_source_removed(db, "u", "doc", 10),
    "study.due_cards": lambda db: study.due_cards(db, "u", study.ALL, "review", now=NOW, limit=5),
    "study.due_cards deck": lambda db: study.due_cards(db, "u", DECK, "learning", now=NOW, limit=5),
    "study.due_cards course": lambda db: study.due_cards(db, "u", COURSE, "review", now=NOW, limit=5),
    "study.due_cards tag": lambda db: study.due_cards(db, "u", TAG, "review", now=NOW, limit=5),
    "study.due_cards deck tag": lambda db: study.due_cards(db, "u", DECK_TAG, "review", now=NOW, limit=5),
    "study.new_cards": lambda db: study.new_cards(db, "u", study.ALL, 5),
    "study.new_cards deck": lambda db: study.new_cards(db, "u", DECK, 5),
    "study.new_cards course tag": lambda db: study.new_cards(db, "u", COURSE_TAG, 5),
    "study.count_due": lambda db: study.count_due(db, "u", study.ALL, "review", NOW),
    "study.count_due deck": lambda db: study.count_due(db, "u", DECK, "review", NOW),
    "study.count_due course tag": lambda db: study.count_due(db, "u", COURSE_TAG, "review", NOW),
    "study.count_new": lambda db: study.count_new(db, "u", study.ALL, 5),
    "study.count_new deck": lambda db: study.count_new(db, "u", DECK, 5),
    "study.count_new tag": lambda db: study.count_new(db, "u", TAG, 5),
    "study.review_logs": lambda db: list(study.review_logs(db, "u", page=2)),
    "study.users_due_refit": lambda db: study.users_due_refit(db, 10),
    "study.count_where state": lambda db: study.count_where(db, "u", "state", "new"),
    "study.count_where suspended": lambda db: study.count_where(db, "u", "suspended", True),
    "study.due_decks": lambda db: study.due_decks(db, "u", NOW, 50),
    "study.due_before": lambda db: study.due_before(db, "u", NOW),
    "study.due_before course": lambda db: study.due_before(db, "u", NOW, COURSE),
    "documents.page": lambda db: documents.page(db, "u", None, 20),
    "documents.page cursor": lambda db: documents.page(db, "u", CURSOR, 20),
    "documents.ready_ids": lambda db: documents.ready_ids(db, "u", 20),
    "documents.find_same_content": lambda db: documents.find_same_content(db, "u", "hash", "other"),
    "documents.has_dependents": lambda db: documents.has_dependents(db, "u", "doc"),
    "documents.delete_stale": lambda db: documents.delete_stale(db, "u", "doc", 3, 1),
    "documents.chunk_indexes": lambda db: documents.chunk_indexes(db, "u", "doc"),
    "documents.nearest_chunks": lambda db: documents.nearest_chunks(db, "u", "doc", [0.1] * 1536, 4),
    "documents.delete": lambda db: documents.delete(db, "u", "doc"),
    "reminders.page_notifications": lambda db: reminders.page_notifications(db, "u", None, 20),
    "reminders.page_notifications cursor": lambda db: reminders.page_notifications(db, "u", CURSOR, 20),
    "reminders.unread_count": lambda db: reminders.unread_count(db, "u"),
    "reminders.list_devices": lambda db: reminders.list_devices(db, "u"),
    "reminders.due_users": lambda db: reminders.due_users(db, NOW, 100, None),
    "reminders.due_users after": lambda db: reminders.due_users(db, NOW, 100, (NOW, "u")),
    "reminders.pending_pushes": lambda db: reminders.pending_pushes(db, 100),
    "chat.recent_messages": lambda db: chats.recent_messages(db, "u", "c", 20),
    "chat.page_chats": lambda db: chats.page_chats(db, "u", None, 20),
    "chat.page_chats cursor": lambda db: chats.page_chats(db, "u", CURSOR, 20),
    "chat.page_messages": lambda db: chats.page_messages(db, "u", "c", CURSOR, 20),
    "chat.delete": lambda db: chats.delete(db, "u", "c"),
    "generation.page_jobs": lambda db: generation.page_jobs(db, "u", None, 20),
    "generation.page_jobs cursor": lambda db: generation.page_jobs(db, "u", CURSOR, 20),
    "generation.list_drafts": lambda db: generation.list_drafts(db, "u", "j", 20),
    "generation.draft_ids": lambda db: generation.draft_ids(db, "u", "j", 20),
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    running = start("127.0.0.1", 0, lock_timeout=2.0, indexes=INDEX_FILE)
    yield running
    running.stop()


@pytest.mark.parametrize("name", list(QUERIES))
def test_the_index_file_serves_the_app_query(name: str, db: firestore.Client) -> None:
    QUERIES[name](db)


def test_a_query_the_file_does_not_serve_is_refused_here(db: firestore.Client) -> None:
    """The check is on in this module: a descending page of a deck's cards has no declared index."""
    from google.api_core import exceptions

    with pytest.raises(exceptions.FailedPrecondition, match="The query requires an index"):
        cards_col(db, "u").where(filter=firestore.FieldFilter("deckId", "==", "d")).order_by(
            "createdAt", direction=firestore.Query.DESCENDING
        ).get()
