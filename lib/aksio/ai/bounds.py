"""Upper bounds of what one model or embedding call can cost, in tokens. Pure.

A byte-level BPE tokenizer (OpenAI's, and every compatible one we know) never makes more
tokens than the UTF-8 bytes it reads, so the bytes of the messages, plus a few tokens of
framing per message, plus the completion limit sent with the request (``max_tokens``) bound
a chat completion from above without a tokenizer (tiktoken downloads its tables at run time).
The budget (:func:`aksio.usage.reserve`) reserves these bounds before each call and settles
to the real usage after, so the plan's limit is never passed, whatever the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aksio.ai import prompts
from aksio.ai.base import CardRequest, Passage, Turn

MESSAGE_OVERHEAD = 8  # role and framing tokens of one chat message (OpenAI counts 3-4)
REPLY_OVERHEAD = 8  # the tokens that prime the reply
# generate_cards asks at most twice: the repair request repeats the first one plus the first
# reply (cut to 4,000 characters: at most 16,000 bytes) and the repair instruction naming the
# problem (at most 330 characters: 1,320 bytes).
CARD_CALLS = 2
REPAIR_EXTRA = 4000 * 4 + len(prompts.REPAIR.encode()) + 330 * 4 + 2 * MESSAGE_OVERHEAD


# Provider error codes after which nothing was billed (the call was refused before any work):
# a reservation is released in full; after any other failure it stays counted.
NOT_BILLED = frozenset({"model_unreachable", "model_rate_limited", "model_quota", "model_rejected"})


def attempts() -> int:
    """How many times one call may be sent: the OpenAI client retries a timeout, a 429 or a
    5xx up to ``OPENAI_MAX_RETRIES`` times, and a retried request may have been billed too.
    Every reservation is this many calls' worth."""
    from aksio.config import get_config

    return 1 + get_config().openai_max_retries


def text_bound(text: str) -> int:
    return len(text.encode("utf-8", errors="replace"))


def messages_bound(messages: Sequence[dict[str, Any]]) -> int:
    return REPLY_OVERHEAD + sum(text_bound(str(m.get("content") or "")) + MESSAGE_OVERHEAD for m in messages)


def cards_bound(request: CardRequest, max_output_tokens: int) -> int:
    """The most one :meth:`Provider.generate_cards` can spend (its repair call included)."""
    first = messages_bound(prompts.card_messages(request)) + max_output_tokens
    return CARD_CALLS * first + REPAIR_EXTRA


def answer_bound(question: str, passages: Sequence[Passage], history: Sequence[Turn], max_output_tokens: int) -> int:
    """The most one tutor answer can spend."""
    return messages_bound(prompts.chat_messages(question, passages, history)) + max_output_tokens


def embed_bound(texts: Sequence[str]) -> int:
    """The most embedding ``texts`` can spend (an embedding has no completion)."""
    return sum(text_bound(t) + 1 for t in texts)
