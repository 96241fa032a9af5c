"""What chat-reply does. A reply is two steps, so a streamed answer can start only once
every check has passed: :func:`prepare` (the chat is the caller's, the documents too, the
daily quota, history trimmed to a budget, the passages) and :func:`complete` (the model's
answer, then both messages, the chat and token usage in one transaction: :func:`save`).
A failed answer gives the message back to the quota. The answer's tokens are reserved in
:func:`prepare` (the most it can cost: :func:`aksio.ai.bounds.answer_bound`, with the
answer's ``max_tokens``) and settled to the real usage once it is known. Contention on the chat or the quota
that outlasts the retries is :class:`aksio.errors.Contention` (503).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aksio import errors, log, usage
from aksio import firestore as fs
from aksio.ai import bounds
from aksio.ai.base import Answer, Delta, Passage, PermanentProviderError, Provider, TransientProviderError, Turn, Usage
from aksio.chat import grounding, repository
from aksio.chat import model as m
from aksio.config import get_config

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

_log = log.get_logger("aksio.chat")


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
    tokens: usage.Reservation | None = None


def _not_found(chat_id: str) -> errors.NotFound:
    return errors.NotFound(f"No chat {chat_id}.", code="chat_not_found")


def _chat_or_404(db: Client, uid: str, chat_id: str) -> m.StoredChat:
    chat = repository.get(db, uid, chat_id)
    if chat is None:
        raise _not_found(chat_id)
    return chat


def prepare(db: Client, uid: str, body: m.ChatRequest) -> Prepared:
    chat = _chat_or_404(db, uid, body.chat_id) if body.chat_id else None
    if body.course_id is not None:
        document_ids = grounding.course_documents(db, uid, body.course_id, body.document_ids)
        grounding.check_documents(db, uid, document_ids)
    elif body.document_ids is not None:
        grounding.check_documents(db, uid, body.document_ids)
        document_ids = list(dict.fromkeys(body.document_ids))
    else:
        document_ids = list(chat.document_ids) if chat is not None else []
    charged_at = fs.utcnow()
    usage.charge(db, uid, usage.TUTOR_MESSAGES, charged_at)
    try:
        turns: list[Turn] = []
        if body.chat_id:
            recent = repository.recent_messages(db, uid, body.chat_id, m.HISTORY_MESSAGES)
            turns = [Turn(role=r.role, content=r.content) for r in recent]
        history = m.trim_history(turns)
        previous = next((t.content for t in reversed(turns) if t.role == "user"), None)
        searched = document_ids or grounding.ready_documents(db, uid)
        query = grounding.search_query(body.message, previous)
        passages = grounding.retrieve(db, uid, query, searched) if searched else []
        bound = bounds.answer_bound(body.message, passages, history, get_config().chat_max_output_tokens)
        tokens = usage.reserve(db, uid, usage.AI_TOKENS, bound * bounds.attempts(), calls=bounds.attempts())
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
        tokens=tokens,
    )


def _settle(db: Client, prep: Prepared, used: Usage | None) -> None:
    """The reserved tokens become what the answer used (None: unknown, all of them stay)."""
    if prep.tokens is not None and used is not None:
        usage.settle_spent(db, prep.tokens, used)


def complete(db: Client, prep: Prepared, provider: Provider, on_delta: Delta | None = None) -> m.ChatReply:
    try:
        answer = provider.answer(prep.question, prep.passages, prep.history, on_delta)
    except (TransientProviderError, PermanentProviderError) as exc:
        _settle(db, prep, Usage() if exc.code in bounds.NOT_BILLED else None)
        usage.refund(db, prep.uid, usage.TUTOR_MESSAGES, prep.charged_at)
        if isinstance(exc, PermanentProviderError):
            raise errors.Unavailable(f"The tutor could not answer: {exc.message}", code=exc.code) from exc
        raise errors.Unavailable(f"The tutor is unavailable right now: {exc.message}", code=exc.code) from exc
    except Exception:
        _settle(db, prep, None)
        usage.refund(db, prep.uid, usage.TUTOR_MESSAGES, prep.charged_at)
        raise
    _settle(db, prep, answer.usage)
    return save(db, prep, answer)


def save(db: Client, prep: Prepared, answer: Answer) -> m.ChatReply:
    now = fs.utcnow()
    u = answer.usage
    question = m.StoredMessage(role="user", content=prep.question, created_at=now)
    reply = m.StoredMessage(
        role="assistant",
        content=answer.text,
        created_at=now + timedelta(microseconds=1),
        citations=tuple(c.to_stored() for c in answer.citations),
        grounded=answer.grounded,
        usage=u.to_stored(),
    )

    def run(tx: Any) -> list[str]:
        chat = repository.get_in(tx, db, prep.uid, prep.chat_id)
        if chat is None and not prep.is_new:
            raise _not_found(prep.chat_id)  # deleted meanwhile
        first = chat.message_count if chat is not None else 0
        updated = m.after_turn(chat, question=prep.question, document_ids=prep.document_ids, now=now)
        ids = repository.add_turn_in(
            tx, db, prep.uid, prep.chat_id, chat=updated, messages=[question, reply], first=first
        )
        if u.total_tokens or u.calls:
            usage.add_tokens_in(tx, db, prep.uid, u.prompt_tokens, u.completion_tokens, u.calls, now)
        return ids

    user_id, bot_id = fs.run_transaction(db, run, what="chat reply")
    _log.info("tutor answered", extra={"event": "tutor_message", "grounded": answer.grounded})
    return m.ChatReply(chat_id=prep.chat_id, user_message=question.view(user_id), message=reply.view(bot_id))


# -- read -----------------------------------------------------------------------------------


def list_chats(db: Client, uid: str, query: m.PageQuery) -> m.ChatPage:
    chats, next_cursor = repository.page_chats(db, uid, query.cursor, query.limit)
    return m.ChatPage(chats=[chat.view(chat_id) for chat_id, chat in chats], next_cursor=next_cursor)


def get_chat(db: Client, uid: str, chat_id: str) -> m.Chat:
    return _chat_or_404(db, uid, chat_id).view(chat_id)


def list_messages(db: Client, uid: str, chat_id: str, query: m.PageQuery) -> m.MessagePage:
    """A chat's messages, oldest first, ``limit`` at a time."""
    _chat_or_404(db, uid, chat_id)
    messages, next_cursor = repository.page_messages(db, uid, chat_id, query.cursor, query.limit)
    return m.MessagePage(messages=[msg.view(msg_id) for msg_id, msg in messages], next_cursor=next_cursor)


def delete_chat(db: Client, uid: str, chat_id: str) -> m.ChatDeleted:
    _chat_or_404(db, uid, chat_id)
    return m.ChatDeleted(id=chat_id, messages_deleted=repository.delete(db, uid, chat_id))


def delete_user_data(db: Client, uid: str) -> int:
    """Account deletion: every chat of the user with its messages."""
    return repository.delete_user_chats(db, uid)
