"""Sentence patterns the offline provider makes cards from: definitions, enumerations,
cloze deletions, numbers. Pure; shared by every offline study aid."""

from __future__ import annotations

import re

from aksio.ai.text import STOPWORDS, is_bullet, strip_bullet, words

PRONOUNS = frozenset(
    [
        "it",
        "this",
        "that",
        "these",
        "those",
        "they",
        "there",
        "he",
        "she",
        "we",
        "you",
        "i",
        "which",
        "what",
        "who",
        "its",
        "their",
        "his",
        "her",
        "our",
        "one",
        "each",
        "some",
        "many",
        "most",
        "all",
        "both",
        "such",
        "here",
        "another",
        "other",
    ]
)
TERM = r"(?P<term>[^\s,;:.!?][^,;:.!?]{0,60}?)"
DEFINITIONS = [
    (re.compile(TERM + r"\s+(?P<verb>is|are)\s+(?:defined as\s+)?(?P<def>(?:a|an|the)\s+.{8,})$", re.I), "is"),
    (re.compile(TERM + r"\s+(?P<verb>refers to|refer to)\s+(?P<def>.{6,})$", re.I), "refers"),
    (re.compile(TERM + r"\s+(?P<verb>means|mean|denotes|denote)\s+(?P<def>.{6,})$", re.I), "means"),
    (re.compile(TERM + r"\s+(?P<verb>is|are)\s+(?P<def>.{12,})$", re.I), "is-bare"),
]
GLOSSARY = re.compile(r"^(?P<term>[^:–—]{2,50}?)\s*(?::|\s[–—-]\s)\s*(?P<def>\S.{6,})$")
ENUM = re.compile(
    r"^(?P<head>.{3,120}?\b(?:include|includes|including|are|is|consist of|consists of|comprise|comprises|"
    r"such as|namely|are called|were|have|has))\s*:?\s+(?P<items>[^.;]+?)\.?$",
    re.I,
)
NUMBER = re.compile(r"\b\d[\d,.]*\s*(?:%|percent|°C|°F|km|kg|mm|cm|m|years?)?\b|\b1[0-9]{3}\b|\b20[0-9]{2}\b")


QUESTIONS = {
    "are": "What are {}?",
    "was": "What was {}?",
    "were": "What were {}?",
    "refers": "What does {} refer to?",
    "means": "What does {} mean?",
}


def clean(text: str) -> str:
    text = text.strip().strip('"“”').strip()
    return text[:-1] if text.endswith((".", ";", ",")) else text


def cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def term_ok(term: str) -> bool:
    ws = words(term)
    if not 1 <= len(ws) <= 6:
        return False
    if ws[0].lower() in PRONOUNS or (len(ws) == 1 and ws[0].lower() in STOPWORDS):
        return False
    return not any(w.lower() in {"is", "are", "was", "were", "be", "not"} for w in ws)


def strip_article(term: str) -> str:
    return re.sub(r"^(?:the|a|an)\s+", "", term.strip(), flags=re.I)


def lower_article(term: str) -> str:
    term = term.strip()
    return re.sub(r"^(The|A|An)\s", lambda m: m.group(1).lower() + " ", term)


def definition(sentence: str) -> tuple[str, str, str] | None:
    """``(term, verb kind, definition)`` when ``sentence`` defines a term."""
    s = clean(sentence)
    if is_bullet(s):
        s = strip_bullet(s)
    for pattern, kind in DEFINITIONS:
        m = pattern.match(s)
        if m and term_ok(m.group("term")):
            body = m.group("def").strip()
            if kind == "is-bare" and (len(words(m.group("term"))) > 3 or len(words(body)) < 4):
                continue
            verb = m.group("verb").lower() if kind in ("is", "is-bare") else kind
            return lower_article(m.group("term")), verb, body
    m = GLOSSARY.match(s)
    if m and term_ok(m.group("term")) and len(words(m.group("def"))) >= 3:
        return lower_article(m.group("term")), "gloss", m.group("def").strip()
    return None


def split_items(text: str) -> list[str]:
    parts = re.split(r",\s*(?:and|or)\s+|,\s*|\s+and\s+|\s+or\s+|;\s*", text)
    return [p.strip() for p in parts if p.strip()]


def enumeration(sentence: str) -> tuple[str, list[str]] | None:
    """``(lead-in, items)`` when ``sentence`` lists three or more short items."""
    s = clean(sentence)
    m = ENUM.match(s)
    if not m:
        return None
    items = split_items(m.group("items"))
    if len(items) < 3 or len(items) > 12 or any(len(words(i)) > 6 or not words(i) for i in items):
        return None
    return m.group("head").strip(), items


def cloze_of(sentence: str, answer: str) -> str | None:
    left = r"\b" if answer[:1].isalnum() else ""
    right = r"\b" if answer[-1:].isalnum() else ""
    m = re.search(left + re.escape(answer) + right, sentence)
    if m is None:
        return None
    return sentence[: m.start()] + "{{c1::" + answer + "}}" + sentence[m.end() :]


def front_of_cloze(text: str) -> str:
    return re.sub(r"\{\{c1::(.*?)\}\}", "[...]", text)


def answer_of_cloze(text: str) -> str:
    m = re.search(r"\{\{c1::(.*?)\}\}", text)
    return m.group(1) if m else ""
