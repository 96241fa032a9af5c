"""The chats' Firestore: the only code that reads and writes ``users/{uid}/chats/{chatId}``
(:class:`~aksio.chat.model.StoredChat`: title, documentIds, messageCount, timestamps) and
``.../messages/m{seq:06d}`` (:class:`~aksio.chat.model.StoredMessage`: role, content,
citations, grounded, usage, createdAt)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aksio import firestore as fs
from aksio import paging
from aksio.chat.model import StoredChat, StoredMessage, message_id

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

CHATS, MESSAGES = "chats", "messages"
DELETE_BATCH = 400


def _ref(db: Client, uid: str, chat_id: str) -> Any:
    return fs.user_col(db, uid, CHATS).document(chat_id)


def _chat(snap: Any) -> StoredChat | None:
    return StoredChat.from_stored(snap.to_dict() or {}) if snap.exists else None


def get(db: Client, uid: str, chat_id: str) -> StoredChat | None:
    return _chat(_ref(db, uid, chat_id).get())


def get_in(tx: Any, db: Client, uid: str, chat_id: str) -> StoredChat | None:
    """Inside transaction ``tx``: the chat, locked until the transaction ends."""
    return _chat(_ref(db, uid, chat_id).get(transaction=tx))


def add_turn_in(
    tx: Any, db: Client, uid: str, chat_id: str, *, chat: StoredChat, messages: Sequence[StoredMessage], first: int
) -> list[str]:
    """Inside transaction ``tx`` (writes only): ``messages`` created as numbers ``first``,
    ``first + 1``, … (a number taken meanwhile fails the commit) and the chat stored. Their ids."""
    ref = _ref(db, uid, chat_id)
    ids = [message_id(first + n) for n in range(len(messages))]
    for msg_id, message in zip(ids, messages, strict=True):
        tx.create(ref.collection(MESSAGES).document(msg_id), message.to_stored())
    tx.set(ref, chat.to_stored(), merge=True)
    return ids


def recent_messages(db: Client, uid: str, chat_id: str, limit: int) -> list[StoredMessage]:
    """The chat's last ``limit`` messages, oldest first."""
    from google.cloud import firestore

    q = (
        _ref(db, uid, chat_id)
        .collection(MESSAGES)
        .order_by("createdAt", direction=firestore.Query.DESCENDING)
        .limit(limit)
    )
    rows = [StoredMessage.from_stored(s.to_dict() or {}) for s in q.stream()]
    rows.reverse()
    return rows


def page_chats(db: Client, uid: str, cursor: str | None, limit: int) -> tuple[list[tuple[str, StoredChat]], str | None]:
    """The chats, most recently active first, ``limit`` after ``cursor``."""
    q = paging.newest_first(fs.user_col(db, uid, CHATS), "updatedAt")
    snaps, next_cursor = paging.page(q, "updatedAt", cursor, limit)
    return [(s.id, StoredChat.from_stored(s.to_dict() or {})) for s in snaps], next_cursor


def page_messages(
    db: Client, uid: str, chat_id: str, cursor: str | None, limit: int
) -> tuple[list[tuple[str, StoredMessage]], str | None]:
    """A chat's messages, oldest first, ``limit`` after ``cursor``."""
    q = _ref(db, uid, chat_id).collection(MESSAGES).order_by("createdAt").order_by("__name__")
    snaps, next_cursor = paging.page(q, "createdAt", cursor, limit)
    return [(s.id, StoredMessage.from_stored(s.to_dict() or {})) for s in snaps], next_cursor


def delete(db: Client, uid: str, chat_id: str) -> int:
    """The chat and its messages; how many messages were deleted."""
    ref = _ref(db, uid, chat_id)
    deleted = fs.delete_matching(db, ref.collection(MESSAGES), DELETE_BATCH)
    ref.delete()
    return deleted


def delete_user_chats(db: Client, uid: str) -> int:
    return fs.delete_collection(db, fs.user_col(db, uid, CHATS), nested=(MESSAGES,), batch_size=DELETE_BATCH)
