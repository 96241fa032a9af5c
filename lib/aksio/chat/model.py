"""Chat request and response models (camelCase on the wire), the stored chat and message
records, and the rules of a turn and of history trimming. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from aksio.ai.base import Turn
from aksio.ai.text import estimate_tokens
from aksio.schema import CURSOR, NON_BLANK, ApiModel, RequestModel

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
HISTORY_TOKENS = 2000  # the budget of earlier turns sent with a question
HISTORY_MESSAGES = 20  # at most this many earlier messages are read
MAX_MESSAGE_CHARS = 4000


class ChatRequest(RequestModel):
    chat_id: Id | None = None
    message: Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS, json_schema_extra={"pattern": NON_BLANK})]
    document_ids: Annotated[list[Id], Field(max_length=20)] | None = None
    # Answer from this course's documents only (documentIds, if sent, must be the course's).
    course_id: Id | None = None

    @field_validator("message")
    @classmethod
    def _message(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message is empty")
        return value.strip()


class CitationOut(ApiModel):
    marker: int
    document_id: str | None = None
    chunk_id: str | None = None
    page: int | None = None
    last_page: int | None = None
    heading: str | None = None
    title: str | None = None
    quote: str | None = None


class Message(ApiModel):
    id: str
    role: Literal["user", "assistant"]
    content: str
    citations: list[CitationOut] = Field(default_factory=list)
    grounded: bool | None = None
    created_at: datetime | None = None


class ChatReply(ApiModel):
    chat_id: str
    user_message: Message
    message: Message


class Chat(ApiModel):
    id: str
    title: str
    document_ids: list[str] = Field(default_factory=list)
    message_count: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ChatPage(ApiModel):
    chats: list[Chat]
    next_cursor: str | None = None


class MessagePage(ApiModel):
    messages: list[Message]
    next_cursor: str | None = None


class PageQuery(RequestModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, Field(max_length=500, description=CURSOR)] | None = None


class ChatDeleted(ApiModel):
    id: str
    deleted: bool = True
    messages_deleted: int = 0


# -- stored records ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredMessage:
    """``users/{uid}/chats/{chatId}/messages/m{seq:06d}``."""

    role: Literal["user", "assistant"]
    content: str
    created_at: datetime | None = None
    citations: tuple[dict[str, Any], ...] = ()  # citation maps (:meth:`aksio.ai.base.Citation.to_stored`)
    grounded: bool | None = None
    usage: dict[str, Any] | None = None  # the answer's token usage

    def to_stored(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.role == "assistant":
            out |= {"citations": list(self.citations), "grounded": self.grounded, "usage": self.usage}
        return out | {"createdAt": self.created_at}

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> StoredMessage:
        return cls(
            role="assistant" if data.get("role") == "assistant" else "user",
            content=str(data.get("content", "")),
            created_at=data.get("createdAt"),
            citations=tuple(c for c in data.get("citations") or [] if isinstance(c, dict)),
            grounded=data.get("grounded"),
            usage=data.get("usage"),
        )

    def view(self, msg_id: str) -> Message:
        return Message(
            id=msg_id,
            role=self.role,
            content=self.content,
            citations=[CitationOut.model_validate(c) for c in self.citations],
            grounded=self.grounded,
            created_at=self.created_at,
        )


@dataclass(frozen=True)
class StoredChat:
    """``users/{uid}/chats/{chatId}``."""

    title: str = ""
    document_ids: tuple[str, ...] = ()
    message_count: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_message_at: datetime | None = None

    def to_stored(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "documentIds": list(self.document_ids),
            "messageCount": self.message_count,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "lastMessageAt": self.last_message_at,
        }

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> StoredChat:
        return cls(
            title=str(data.get("title", "")),
            document_ids=tuple(str(d) for d in data.get("documentIds") or []),
            message_count=int(data.get("messageCount") or 0),
            created_at=data.get("createdAt"),
            updated_at=data.get("updatedAt"),
            last_message_at=data.get("lastMessageAt"),
        )

    def view(self, chat_id: str) -> Chat:
        return Chat(
            id=chat_id,
            title=self.title,
            document_ids=list(self.document_ids),
            message_count=self.message_count,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


def message_id(seq: int) -> str:
    return f"m{seq:06d}"


def after_turn(chat: StoredChat | None, *, question: str, document_ids: Sequence[str], now: datetime) -> StoredChat:
    """The chat once a question and its answer are added (a new chat when ``chat`` is None):
    two more messages, titled by its first question, answering from the documents asked
    about last (when a question names some)."""
    if chat is None:
        return StoredChat(
            title=question[:80],
            document_ids=tuple(document_ids),
            message_count=2,
            created_at=now,
            updated_at=now,
            last_message_at=now,
        )
    ids = tuple(document_ids) if document_ids else chat.document_ids
    return replace(chat, document_ids=ids, message_count=chat.message_count + 2, updated_at=now, last_message_at=now)


def trim_history(turns: Sequence[Turn], budget: int = HISTORY_TOKENS) -> list[Turn]:
    """The most recent turns that fit ``budget`` tokens, oldest first; never starting with
    an assistant turn whose question was cut."""
    kept: list[Turn] = []
    used = 0
    for turn in reversed(turns):
        cost = estimate_tokens(turn.content) + 4
        if used + cost > budget:
            break
        kept.append(turn)
        used += cost
    kept.reverse()
    while kept and kept[0].role == "assistant":
        kept.pop(0)
    return kept
