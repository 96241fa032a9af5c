"""The provider interface and its value types. Pure.

A provider turns passages (chunks of the user's documents, or pasted text) into card
drafts, answers a question from passages with citations, and embeds texts. Errors are
either transient (rate limit, 5xx, timeout, malformed output after the repair attempt:
worth retrying later) or permanent (bad request, refused key: retrying cannot help).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

CardKind = Literal["basic", "cloze"]
Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Passage:
    """A piece of source text and where it comes from."""

    text: str
    document_id: str | None = None  # None for pasted text
    chunk_id: str | None = None
    page: int | None = None  # first page (slide) the passage is on
    last_page: int | None = None
    heading: str | None = None
    title: str | None = None  # the document's name
    score: float | None = None

    def source(self) -> dict[str, object]:
        """The citation map stored with a card or a message (camelCase, like the API)."""
        out: dict[str, object] = {}
        if self.document_id is not None:
            out["documentId"] = self.document_id
        if self.chunk_id is not None:
            out["chunkId"] = self.chunk_id
        if self.page is not None:
            out["page"] = self.page
        if self.last_page is not None and self.last_page != self.page:
            out["lastPage"] = self.last_page
        if self.heading:
            out["heading"] = self.heading
        if self.title:
            out["title"] = self.title
        return out


@dataclass(frozen=True)
class CardDraft:
    """One card as a provider proposes it. ``passage`` indexes the request's passages.

    A basic card has ``front`` and ``back``; a cloze card has ``text`` with exactly one
    ``{{c1::answer}}`` deletion (one fact per card: the minimum-information principle).
    """

    kind: CardKind
    front: str = ""
    back: str = ""
    text: str = ""
    passage: int = 0
    quote: str | None = None  # the sentence the card was made from, when known


_CLOZE = re.compile(r"\{\{c(\d{1,3})::(.+?)(?:::(.*?))?\}\}", re.DOTALL)


def check_draft(draft: CardDraft, passages: int) -> str | None:  # noqa: PLR0911 - one return per rule
    """Why a draft is unusable, or None when it is fine."""
    if not 0 <= draft.passage < max(passages, 1):
        return "cites a passage that does not exist"
    if draft.kind == "basic":
        if not draft.front.strip() or not draft.back.strip():
            return "basic card without front or back"
        if len(draft.front) > 2000 or len(draft.back) > 4000:
            return "card text too long"
        return None
    deletions = _CLOZE.findall(draft.text)
    if not deletions:
        return "cloze card without a {{c1::...}} deletion"
    if not _CLOZE.sub("", draft.text).strip():
        return "cloze card that hides everything"
    if len(draft.text) > 4000:
        return "card text too long"
    return None


@dataclass(frozen=True)
class CardRequest:
    passages: Sequence[Passage]
    count: int
    types: tuple[CardKind, ...] = ("basic", "cloze")
    language: str | None = None
    avoid: tuple[str, ...] = ()  # fronts already made (so the model does not repeat them)


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    # Requests the client sent again (after a timeout or a 5xx): they may have been billed,
    # and their usage is never reported, so the budget keeps what it reserved for them.
    retried: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: Usage) -> Usage:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.calls += other.calls
        self.retried += other.retried
        return self

    def to_stored(self) -> dict[str, int]:
        return {
            "promptTokens": self.prompt_tokens,
            "completionTokens": self.completion_tokens,
            "totalTokens": self.total_tokens,
            "calls": self.calls,
        }


@dataclass
class CardResult:
    cards: list[CardDraft]
    usage: Usage = field(default_factory=Usage)
    rejected: list[str] = field(default_factory=list)  # why drafts were dropped (never silently)
    repaired: bool = False  # the output needed the repair/retry path


@dataclass(frozen=True)
class Citation:
    marker: int  # the [n] in the answer text
    passage: Passage
    quote: str | None = None

    def to_stored(self) -> dict[str, object]:
        out = {"marker": self.marker, **self.passage.source()}
        if self.quote:
            out["quote"] = self.quote
        return out


@dataclass
class Answer:
    text: str
    citations: list[Citation]
    usage: Usage = field(default_factory=Usage)
    grounded: bool = True  # False when no passage supported an answer


@dataclass(frozen=True)
class Turn:
    role: Role
    content: str


class ProviderError(Exception):
    transient = False

    def __init__(self, message: str, *, code: str = "provider_error") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class TransientProviderError(ProviderError):
    """Retry later: rate limit, server error, timeout, malformed output."""

    transient = True


class PermanentProviderError(ProviderError):
    """Retrying cannot help: the request or the configuration is wrong."""


Delta = Callable[[str], None]


class Provider(Protocol):
    name: str

    def generate_cards(self, request: CardRequest) -> CardResult: ...

    def answer(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = (), on_delta: Delta | None = None
    ) -> Answer: ...

    def embed(self, texts: Sequence[str]) -> tuple[list[list[float]], Usage]: ...


_MARKER = re.compile(r"\[(\d{1,2})\]")


def citations_from_markers(text: str, passages: Sequence[Passage]) -> list[Citation]:
    """The passages an answer cites with ``[n]`` markers (1-based), in order of first use."""
    seen: dict[int, Citation] = {}
    for match in _MARKER.finditer(text):
        n = int(match.group(1))
        if 1 <= n <= len(passages) and n not in seen:
            seen[n] = Citation(marker=n, passage=passages[n - 1])
    return list(seen.values())
