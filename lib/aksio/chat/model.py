"""Chat request and response models (camelCase on the wire), and history trimming. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from aksio.ai.base import Turn
from aksio.ai.text import estimate_tokens
from aksio.schema import ApiModel, RequestModel

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
HISTORY_TOKENS = 2000  # the budget of earlier turns sent with a question
HISTORY_MESSAGES = 20  # at most this many earlier messages are read
MAX_MESSAGE_CHARS = 4000


class ChatRequest(RequestModel):
    chat_id: Id | None = None
    message: Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS)]
    document_ids: Annotated[list[Id], Field(max_length=20)] | None = None

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
    cursor: Annotated[str, Field(max_length=500)] | None = None


class ChatDeleted(ApiModel):
    id: str
    deleted: bool = True
    messages_deleted: int = 0


def message_from_stored(msg_id: str, data: dict[str, Any]) -> Message:
    return Message(
        id=msg_id,
        role=data.get("role", "user"),
        content=data.get("content", ""),
        citations=[CitationOut.model_validate(c) for c in data.get("citations") or []],
        grounded=data.get("grounded"),
        created_at=data.get("createdAt"),
    )


def chat_from_stored(chat_id: str, data: dict[str, Any]) -> Chat:
    return Chat(
        id=chat_id,
        title=data.get("title", ""),
        document_ids=list(data.get("documentIds") or []),
        message_count=int(data.get("messageCount") or 0),
        created_at=data.get("createdAt"),
        updated_at=data.get("updatedAt"),
    )


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
