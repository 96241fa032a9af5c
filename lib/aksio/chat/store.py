"""Chats in Firestore: ``users/{uid}/chats/{chatId}`` (title, documentIds, messageCount,
timestamps) and ``.../messages/m{seq:06d}`` (role, content, citations, grounded, usage,
createdAt). A reply is two steps, so a streamed answer can start only once every check
has passed: :func:`prepare` (the chat is the caller's, the documents too, the daily quota,
history trimmed to a budget, the passages) and :func:`complete` (the model's answer, then
both messages, the chat and token usage in one transaction). A failed answer gives the
message back to the quota.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aksio import errors, log, paging, usage
from aksio.ai.base import Answer, Delta, Passage, PermanentProviderError, Provider, TransientProviderError, Turn
from aksio.chat import grounding
from aksio.chat import model as m

_log = log.get_logger("aksio.chat")


def _now() -> datetime:
    return datetime.now(UTC)


def chats_col(db: Any, uid: str) -> Any:
    return db.collection("users").document(uid).collection("chats")


@dataclass
class Prepared:
    uid: str
    chat_id: str
    is_new: bool
    question: str
    document_ids: list[str]
    history: list[Turn]
    passages: list[Passage]
    charged_at: datetime


def _chat_or_404(db: Any, uid: str, chat_id: str) -> dict[str, Any]:
    snap = chats_col(db, uid).document(chat_id).get()
    if not snap.exists:
        raise errors.NotFound(f"No chat {chat_id}.", code="chat_not_found")
    return snap.to_dict() or {}


def prepare(db: Any, uid: str, body: m.ChatRequest) -> Prepared:
    chat: dict[str, Any] = {}
    if body.chat_id:
        chat = _chat_or_404(db, uid, body.chat_id)
    if body.document_ids is not None:
        grounding.check_documents(db, uid, body.document_ids)
        document_ids = list(dict.fromkeys(body.document_ids))
    elif chat.get("documentIds"):
        document_ids = list(chat["documentIds"])
    else:
        document_ids = []
    charged_at = _now()
    usage.charge(db, uid, usage.TUTOR_MESSAGES, charged_at)
    try:
        turns: list[Turn] = []
        if body.chat_id:
            from google.cloud import firestore

            q = (
                chats_col(db, uid)
                .document(body.chat_id)
                .collection("messages")
                .order_by("createdAt", direction=firestore.Query.DESCENDING)
                .limit(m.HISTORY_MESSAGES)
            )
            rows = [s.to_dict() or {} for s in q.stream()]
            turns = [Turn(role=r.get("role", "user"), content=str(r.get("content", ""))) for r in reversed(rows)]
        history = m.trim_history(turns)
        previous = next((t.content for t in reversed(turns) if t.role == "user"), None)
        searched = document_ids or grounding.ready_documents(db, uid)
        query = grounding.search_query(body.message, previous)
        passages = grounding.retrieve(db, uid, query, searched) if searched else []
    except Exception:
        usage.refund(db, uid, usage.TUTOR_MESSAGES, charged_at)
        raise
    return Prepared(
        uid=uid,
        chat_id=body.chat_id or uuid.uuid4().hex[:20],
        is_new=not body.chat_id,
        question=body.message,
        document_ids=document_ids,
        history=history,
        passages=passages,
        charged_at=charged_at,
    )


def complete(db: Any, prep: Prepared, provider: Provider, on_delta: Delta | None = None) -> m.ChatReply:
    try:
        answer = provider.answer(prep.question, prep.passages, prep.history, on_delta)
    except TransientProviderError as exc:
        usage.refund(db, prep.uid, usage.TUTOR_MESSAGES, prep.charged_at)
        raise errors.Unavailable(f"The tutor is unavailable right now: {exc.message}", code=exc.code) from exc
    except PermanentProviderError as exc:
        usage.refund(db, prep.uid, usage.TUTOR_MESSAGES, prep.charged_at)
        raise errors.Unavailable(f"The tutor could not answer: {exc.message}", code=exc.code) from exc
    except Exception:
        usage.refund(db, prep.uid, usage.TUTOR_MESSAGES, prep.charged_at)
        raise
    return save(db, prep, answer)


def save(db: Any, prep: Prepared, answer: Answer) -> m.ChatReply:
    from google.cloud import firestore

    ref = chats_col(db, prep.uid).document(prep.chat_id)
    now = _now()
    citations = [c.to_stored() for c in answer.citations]
    u = answer.usage

    @firestore.transactional
    def run(tx: Any) -> tuple[str, str]:
        snap = ref.get(transaction=tx)
        chat = (snap.to_dict() or {}) if snap.exists else None
        if chat is None and not prep.is_new:
            raise errors.NotFound(f"No chat {prep.chat_id}.", code="chat_not_found")  # deleted meanwhile
        seq = int((chat or {}).get("messageCount") or 0)
        user_id, bot_id = f"m{seq:06d}", f"m{seq + 1:06d}"
        messages = ref.collection("messages")
        tx.create(messages.document(user_id), {"role": "user", "content": prep.question, "createdAt": now})
        tx.create(
            messages.document(bot_id),
            {
                "role": "assistant",
                "content": answer.text,
                "citations": citations,
                "grounded": answer.grounded,
                "usage": u.to_stored(),
                "createdAt": now + timedelta(microseconds=1),
            },
        )
        update: dict[str, Any] = {"messageCount": seq + 2, "updatedAt": now, "lastMessageAt": now}
        if chat is None:
            update |= {"title": prep.question[:80], "documentIds": prep.document_ids, "createdAt": now}
        elif prep.document_ids and prep.document_ids != chat.get("documentIds"):
            update["documentIds"] = prep.document_ids
        tx.set(ref, update, merge=True)
        if u.total_tokens or u.calls:
            tx.set(
                usage.usage_ref(db, prep.uid, usage.period_key("month", now)),
                usage.token_update(u.prompt_tokens, u.completion_tokens, u.calls, now),
                merge=True,
            )
        return user_id, bot_id

    user_id, bot_id = run(db.transaction(max_attempts=25))
    return m.ChatReply(
        chat_id=prep.chat_id,
        user_message=m.Message(id=user_id, role="user", content=prep.question, created_at=now),
        message=m.Message(
            id=bot_id,
            role="assistant",
            content=answer.text,
            citations=[m.CitationOut.model_validate(c) for c in citations],
            grounded=answer.grounded,
            created_at=now + timedelta(microseconds=1),
        ),
    )


# -- read -----------------------------------------------------------------------------------


def list_chats(db: Any, uid: str, query: m.PageQuery) -> m.ChatPage:
    from google.cloud import firestore

    desc = firestore.Query.DESCENDING
    q = chats_col(db, uid).order_by("updatedAt", direction=desc).order_by("__name__", direction=desc)
    snaps, next_cursor = paging.page(q, "updatedAt", query.cursor, query.limit)
    return m.ChatPage(chats=[m.chat_from_stored(s.id, s.to_dict() or {}) for s in snaps], next_cursor=next_cursor)


def get_chat(db: Any, uid: str, chat_id: str) -> m.Chat:
    return m.chat_from_stored(chat_id, _chat_or_404(db, uid, chat_id))


def list_messages(db: Any, uid: str, chat_id: str, query: m.PageQuery) -> m.MessagePage:
    """A chat's messages, oldest first, ``limit`` at a time."""
    _chat_or_404(db, uid, chat_id)
    q = chats_col(db, uid).document(chat_id).collection("messages").order_by("createdAt").order_by("__name__")
    snaps, next_cursor = paging.page(q, "createdAt", query.cursor, query.limit)
    return m.MessagePage(
        messages=[m.message_from_stored(s.id, s.to_dict() or {}) for s in snaps], next_cursor=next_cursor
    )


def delete_chat(db: Any, uid: str, chat_id: str) -> m.ChatDeleted:
    ref = chats_col(db, uid).document(chat_id)
    _chat_or_404(db, uid, chat_id)
    deleted = 0
    while True:
        snaps = list(ref.collection("messages").select([]).limit(400).stream())
        if not snaps:
            break
        batch = db.batch()
        for s in snaps:
            batch.delete(s.reference)
        batch.commit()
        deleted += len(snaps)
    ref.delete()
    return m.ChatDeleted(id=chat_id, messages_deleted=deleted)
