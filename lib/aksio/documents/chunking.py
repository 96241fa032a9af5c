"""Blocks of text → chunks of about 800-1,000 tokens with ~15% overlap. Pure.

Tokens are estimated without a tokenizer (nothing to download): the larger of
words × 1.3 and characters / 4, which tracks OpenAI's tokenizers within ~15% on English
prose and stays conservative for text with few spaces.

A chunk never spans a heading when that can be avoided: a heading closes the chunk that
is open (unless it holds only headings) and starts the next one, without overlap. Inside
a section, chunks overlap by the last sentences of the previous chunk (~15% of the
target). Each chunk keeps its first and last page and the heading of its section.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from aksio.documents.extract import Block

TARGET_TOKENS = 900
MAX_TOKENS = 1000
OVERLAP = 0.15
MAX_UNIT_TOKENS = 120  # sentences longer than this are cut into word windows

_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=[\"'(\[]?[A-ZÀ-ÖØ-Þ0-9])")


def estimate_tokens(text: str) -> int:
    if not text:
        return 0
    return max(1, math.ceil(max(len(text.split()) * 1.3, len(text) / 4)))


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    first_page: int
    last_page: int
    heading: str | None
    token_count: int

    @property
    def pages(self) -> list[int]:
        return [self.first_page, self.last_page]


@dataclass(frozen=True)
class _Unit:
    text: str
    page: int
    block: int  # units of one block are joined with a space, of different blocks with a blank line
    tokens: int
    heading: bool = False


def _units(block: Block, block_no: int) -> Iterator[_Unit]:
    if block.heading or estimate_tokens(block.text) <= MAX_UNIT_TOKENS:
        yield _Unit(block.text, block.page, block_no, estimate_tokens(block.text), block.heading)
        return
    for piece in _SENTENCE.split(block.text):
        sentence = piece.strip()
        if not sentence:
            continue
        tokens = estimate_tokens(sentence)
        if tokens <= MAX_UNIT_TOKENS:
            yield _Unit(sentence, block.page, block_no, tokens)
            continue
        words = sentence.split()
        # windows of ~MAX_UNIT_TOKENS tokens; a "word" longer than that (no spaces) is cut by characters
        step = max(1, int(MAX_UNIT_TOKENS / 1.3))
        for start in range(0, len(words), step):
            window = " ".join(words[start : start + step])
            for cut in range(0, len(window), MAX_UNIT_TOKENS * 4):
                part = window[cut : cut + MAX_UNIT_TOKENS * 4]
                yield _Unit(part, block.page, block_no, estimate_tokens(part))


def chunk_blocks(blocks: Iterable[Block], *, target: int = TARGET_TOKENS, overlap: float = OVERLAP) -> list[Chunk]:
    chunks: list[Chunk] = []
    current: list[_Unit] = []
    tokens = 0
    section: str | None = None  # the heading in force when the open chunk started

    def emit() -> None:
        body = [u for u in current if not u.heading]
        if not body:
            return
        parts: list[str] = []
        previous = None
        for unit in current:
            if previous is not None:
                parts.append(" " if unit.block == previous else "\n\n")
            parts.append(unit.text)
            previous = unit.block
        text = "".join(parts)
        chunks.append(
            Chunk(
                index=len(chunks),
                text=text,
                first_page=min(u.page for u in current),
                last_page=max(u.page for u in current),
                heading=section,
                token_count=estimate_tokens(text),
            )
        )

    def tail() -> list[_Unit]:
        budget = int(target * overlap)
        kept: list[_Unit] = []
        used = 0
        for unit in reversed(current):
            if unit.heading or used + unit.tokens > budget:
                break
            kept.append(unit)
            used += unit.tokens
        kept.reverse()
        return kept

    for block_no, block in enumerate(blocks):
        if block.heading:
            if any(not u.heading for u in current):
                emit()
                current, tokens = [], 0
            section = block.text  # after consecutive headings, the deepest one
        for unit in _units(block, block_no):
            if tokens + unit.tokens > target and any(not u.heading for u in current):
                emit()
                current = tail()
                tokens = sum(u.tokens for u in current)
            current.append(unit)
            tokens += unit.tokens
    emit()
    return chunks
