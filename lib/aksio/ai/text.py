"""Small text utilities the providers and dedupe share. Pure."""

from __future__ import annotations

import math
import re
import unicodedata

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "let",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "explain",
        "describe",
        "tell",
        "define",
        "meaning",
        "mean",
        "called",
        "call",
        "name",
        "list",
        "give",
        "example",
        "examples",
        "one",
        "two",
        "three",
        "many",
        "much",
        "used",
        "use",
        "using",
        "shall",
        "may",
        "might",
        "must",
        "per",
        "via",
    ]
)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def stem(word: str) -> str:
    """A crude English stem: enough to match "cells"/"cell" and "dividing"/"divide"."""
    w = word.lower()
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("edly", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: len(w) - len(suffix)] + keep
    return w


def terms(text: str) -> list[str]:
    """Content-word stems of ``text`` (stopwords dropped)."""
    return [stem(w) for w in words(text) if w.lower() not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def normalize(text: str) -> str:
    """The form two texts are compared in for dedupe: NFKC, case-folded, punctuation and
    cloze markup dropped, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\{\{c\d+::(.*?)(?:::.*?)?\}\}", r"\1", text)
    return " ".join(words(text.casefold()))


def estimate_tokens(text: str) -> int:
    if not text:
        return 0
    return max(1, math.ceil(max(len(text.split()) * 1.3, len(text) / 4)))


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9À-ÖØ-Þ])")
_BULLET = re.compile(r"^\s*(?:[-*•▪◦·]|\d{1,2}[.)]|[a-z][.)])\s+")


def sentences(text: str) -> list[str]:
    """Sentences and list items of ``text``, in order. A line that is a list item, or that
    ends with a colon, stays its own unit."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        buffer: list[str] = []
        for line in (ln.strip() for ln in block.splitlines()):
            if not line:
                continue
            if _BULLET.match(line) or line.endswith(":"):
                _flush(buffer, out)
                out.append(line)
            else:
                buffer.append(line)
        _flush(buffer, out)
    return out


def _flush(buffer: list[str], out: list[str]) -> None:
    if buffer:
        out.extend(s.strip() for s in _SENTENCE_END.split(" ".join(buffer)) if s.strip())
        buffer.clear()


def is_bullet(line: str) -> bool:
    return bool(_BULLET.match(line))


def strip_bullet(line: str) -> str:
    return _BULLET.sub("", line).strip()
