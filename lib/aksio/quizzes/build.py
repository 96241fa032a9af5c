"""Questions from facts, pure and deterministic (seeded by the quiz id).

A :class:`Fact` is a prompt with its answer, an explanation and a citation: a deck's card
(front → back, or a cloze sentence → its deletion), or a passage's definition or number
(:mod:`aksio.quizzes.offline`). From a fact and the other facts' answers (the pool):

- multiple choice: the answer and 3 distractors from the pool, of the same shape (numbers
  for a number, then the closest in length), none equal to the answer or to each other
  once normalised; the 4 options shuffled;
- true/false: the fact's statement with its own answer (true) or a distractor (false);
- short answer: the prompt, graded against the answer's accepted variants.

Kinds are dealt round-robin over the chosen facts; a fact that cannot make its kind (too
few distinct distractors) makes the next kind asked for.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aksio.quizzes import grading
from aksio.quizzes.model import (
    MULTIPLE_CHOICE,
    OPTION_IDS,
    SHORT_ANSWER,
    TRUE_FALSE,
    TRUE_FALSE_OPTIONS,
    Question,
    question_problem,
)

_CLOZE = re.compile(r"\{\{c(\d{1,3})::(.*?)(?:::(.*?))?\}\}", re.DOTALL)
_NUMERIC = re.compile(r"^\s*[-~≈]?\s*\d")
MAX_OPTION_CHARS = 500
BLANK = "{}"  # where a statement's answer goes


@dataclass(frozen=True)
class Fact:
    prompt: str  # a question, or a sentence with a blank "[...]"
    answer: str
    explanation: str = ""
    source: dict[str, Any] | None = None
    statement: str | None = None  # "{}" stands for the answer (true/false), e.g. "X is {}."
    group: str = ""  # facts of the same group make each other's distractors first (a unit, a kind)
    strict: bool = False  # distractors only from the same group (a document's terms, its numbers of a unit)
    origin: str = ""  # facts of the same origin (one sentence) make one question at most


def card_fact(card_id: str, data: dict[str, Any]) -> Fact | None:
    """The fact a card holds: its front and back, or a cloze sentence and its deletion."""
    source = dict(data.get("source") or {})
    source = {k: v for k, v in source.items() if k in ("documentId", "chunkId", "page", "lastPage", "title", "quote")}
    source["cardId"] = card_id
    if data.get("kind") == "cloze":
        text, index = str(data.get("text") or ""), data.get("clozeIndex")
        hidden = [m.group(2) for m in _CLOZE.finditer(text) if str(m.group(1)).lstrip("0") == str(index)]
        if not hidden:
            return None
        answer = " … ".join(h.strip() for h in hidden)
        revealed = _CLOZE.sub(lambda m: m.group(2), text)
        front = str(data.get("front") or "")
        statement = _CLOZE.sub(lambda m: BLANK if m.group(2) in hidden else m.group(2), text)
        single = len(hidden) == 1 and statement.count(BLANK) == 1
        return _fact(front, answer, revealed, source, statement=statement if single else None)
    front, back = str(data.get("front") or ""), str(data.get("back") or "")
    explanation = str(source.get("quote") or f"{front} — {back}")
    return _fact(front, back, explanation, source)


def _fact(
    prompt: str, answer: str, explanation: str, source: dict[str, Any], *, statement: str | None = None
) -> Fact | None:
    prompt, answer = prompt.strip(), answer.strip()
    if not prompt or not answer or len(answer) > MAX_OPTION_CHARS:
        return None
    return Fact(prompt=prompt, answer=answer, explanation=explanation.strip(), source=source, statement=statement)


def _numeric(text: str) -> bool:
    return bool(_NUMERIC.match(text))


def distractors(fact: Fact, pool: Sequence[Fact], rng: random.Random, n: int = 3) -> list[str]:
    """Up to ``n`` answers of other facts, distinct from the answer and from each other once
    normalised, closest in shape first (same group, numbers for a number, similar length)."""
    taken = {grading.normalise(fact.answer)}
    ranked: list[tuple[float, float, str]] = []
    for other in pool:
        text = other.answer
        norm = grading.normalise(text)
        if not norm or norm in taken or len(text) > MAX_OPTION_CHARS:
            continue
        if fact.strict and other.group != fact.group:
            continue
        shape = abs(math.log((len(text) + 4) / (len(fact.answer) + 4)))
        shape += 0.0 if _numeric(text) == _numeric(fact.answer) else 3.0
        shape += 0.0 if other.group == fact.group else 1.5
        ranked.append((shape, rng.random(), text))
    ranked.sort()
    out: list[str] = []
    for _, _, text in ranked:
        norm = grading.normalise(text)
        if norm in taken:
            continue
        taken.add(norm)
        out.append(text)
        if len(out) == n:
            break
    return out


def make_question(qid: str, kind: str, fact: Fact, pool: Sequence[Fact], rng: random.Random) -> Question | None:
    """A question of ``kind`` from ``fact`` (None when the pool cannot make it)."""
    common: dict[str, Any] = {
        "explanation": fact.explanation,
        "source": fact.source,
        "fact": (fact.prompt, fact.answer),
    }
    if kind == MULTIPLE_CHOICE:
        wrong = distractors(fact, pool, rng)
        if len(wrong) < len(OPTION_IDS) - 1:
            return None
        texts = [fact.answer, *wrong]
        rng.shuffle(texts)
        options = tuple(zip(OPTION_IDS, texts, strict=True))
        right = OPTION_IDS[texts.index(fact.answer)]
        q = Question(qid, kind, fact.prompt, right, options=options, **common)
    elif kind == TRUE_FALSE:
        wrong = distractors(fact, pool, rng, n=1)
        truth = not wrong or rng.random() < 0.5
        shown = fact.answer if truth else wrong[0]
        prompt = fact.statement.replace(BLANK, shown) if fact.statement else f"{fact.prompt.rstrip()} — {shown}"
        q = Question(qid, kind, f"True or false: {prompt}", "true" if truth else "false", TRUE_FALSE_OPTIONS, **common)
    else:
        q = Question(
            qid, SHORT_ANSWER, fact.prompt, fact.answer, accepted=tuple(grading.variants(fact.answer)), **common
        )
    return None if question_problem(q) else q


def questions(
    facts: Sequence[Fact], count: int, kinds: Sequence[str], seed: str, *, pool: Sequence[Fact] | None = None
) -> list[Question]:
    """``count`` questions (fewer when there are fewer facts) over ``kinds``, round-robin;
    the same facts, count, kinds and seed make the same questions."""
    rng = random.Random(seed)  # noqa: S311 - a seeded shuffle, not a secret
    unique: dict[str, Fact] = {}
    for f in facts:
        unique.setdefault(grading.normalise(f.prompt), f)
    chosen = list(unique.values())
    rng.shuffle(chosen)
    out: list[Question] = []
    origins: set[str] = set()
    for fact in chosen:
        if len(out) >= count:
            break
        if fact.origin and fact.origin in origins:
            continue
        first = len(out) % len(kinds)
        for kind in [*kinds[first:], *kinds[:first]]:
            q = make_question(f"q{len(out) + 1:02d}", kind, fact, facts if pool is None else pool, rng)
            if q is not None:
                out.append(q)
                origins.add(fact.origin)
                break
    return out
