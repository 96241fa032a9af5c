"""Quiz questions from passages with no model (the offline provider's quizzes). Pure.

Facts come from the text itself, each citing its passage (document, page) and sentence:

- a definition ("X is a Y", "X refers to Y", "X: Y") → "Which term is described here: Y?"
  with X as the answer; its distractors are *other terms the same document defines*; its
  true/false statement swaps X for another of them; as a short answer, X is graded with
  its variants;
- a number with a unit ("boils at 100 °C", "about 37%", "in 1665") → the sentence with a
  blank; its distractors are *other numbers of the same unit in the same document*.

Distractors are never taken across documents or kinds (:attr:`Fact.strict`), and never
equal the answer or another option once normalised (:func:`aksio.quizzes.build.distractors`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aksio.ai import patterns
from aksio.ai.base import Passage, Usage
from aksio.ai.text import estimate_tokens, is_bullet, sentences, strip_bullet, words
from aksio.quizzes import build, grading
from aksio.quizzes.model import Question

_UNITS = (
    r"%|percent|°C|°F|km/h|km|kg|mg|g|mm|cm|nm|μm|m|ml|mL|l|L|kcal|calories|years?|days?|hours?|minutes?|"
    r"seconds?|million|billion|degrees|bits?|bytes?|MB|GB|Hz|kHz|MHz|GHz|W|kW|V|mph|metres|meters|kilometres"
)
NUMBER_UNIT = re.compile(r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)\s?(" + _UNITS + r")(?![\w])")
YEAR = re.compile(r"(?<![\w.,])(1[0-9]{3}|20[0-9]{2})(?![\w.,]\d)")
BLANK = "_____"
_NOT_A_DEFINITION = frozenset(["always", "often", "never", "usually", "not", "thought", "said", "also", "very", "more"])
_UNIT_NAMES = {
    "percent": "%",
    "years": "year",
    "days": "day",
    "hours": "hour",
    "minutes": "minute",
    "seconds": "second",
}


def _unit(text: str) -> str:
    return _UNIT_NAMES.get(text.lower(), text.lower() if len(text) > 2 else text)


def _source(p: Passage, quote: str) -> dict[str, object]:
    return {**p.source(), "quote": quote[:500]}


def _definition_fact(p: Passage, doc: str, origin: str, sentence: str) -> build.Fact | None:
    found = patterns.definition(sentence)
    if not found:
        return None
    term, verb, body = found
    bare = patterns.cap(patterns.strip_article(term))
    body = patterns.clean(body)
    first = (words(body) or [""])[0].lower()
    if first in _NOT_A_DEFINITION or first.endswith("ly"):
        return None  # "X are always given ...", "X is often ...": a claim, not a definition
    if verb in ("is", "are") and first not in ("a", "an", "the") and len(words(term)) > 2:
        return None  # "Measurements in science are ...": a long subject with a bare predicate
    if len(words(body)) < 3 or len(body) > 300 or grading.normalise(bare) in grading.normalise(body):
        return None
    phrase = {"refers": "refers to", "means": "means", "gloss": "is"}.get(verb, verb)
    quote = patterns.clean(strip_bullet(sentence) if is_bullet(sentence) else sentence) + "."
    return build.Fact(
        prompt=f"Which term is described here: “{body}”?",
        answer=bare,
        explanation=quote,
        source=_source(p, quote),
        statement=f"{build.BLANK} {phrase} {body}.",
        group=f"{doc}:term",
        strict=True,
        origin=origin,
    )


def _number_fact(p: Passage, doc: str, origin: str, sentence: str) -> build.Fact | None:
    clean = patterns.clean(strip_bullet(sentence) if is_bullet(sentence) else sentence)
    if not 6 <= len(words(clean)) <= 45:
        return None
    match = NUMBER_UNIT.search(clean)
    unit = _unit(match.group(2)) if match else "year"
    if match is None:
        match = YEAR.search(clean)
        if match is None:
            return None
    answer = match.group(0).strip()
    before, after = clean[: match.start()], clean[match.end() :]
    return build.Fact(
        prompt=f"Fill in the blank: {before}{BLANK}{after}.",
        answer=answer,
        explanation=clean + ".",
        source=_source(p, clean + "."),
        statement=f"{before}{build.BLANK}{after}.",
        group=f"{doc}:num:{unit}",
        strict=True,
        origin=origin,
    )


def facts_of(passages: Sequence[Passage], offset: int = 0) -> list[build.Fact]:
    """The definitions and numbers of ``passages`` as facts (a sentence makes one)."""
    out: list[build.Fact] = []
    for pi, p in enumerate(passages):
        doc = p.document_id or "text"
        for si, sentence in enumerate(sentences(p.text)):
            origin = f"{p.document_id}/{p.chunk_id or pi + offset}/{si}"
            fact = _definition_fact(p, doc, origin, sentence) or _number_fact(p, doc, origin, sentence)
            if fact is not None:
                out.append(fact)
    return out


def make_questions(
    passages: Sequence[Passage],
    count: int,
    kinds: Sequence[str],
    *,
    seed: str,
    context: Sequence[Passage] = (),
    avoid: Sequence[str] = (),
) -> tuple[list[Question], Usage]:
    """Up to ``count`` questions from ``passages``, their distractors from the facts of
    ``passages`` and ``context`` (more of the same documents); prompts in ``avoid`` (made by
    earlier steps) are not asked again. Usage counts estimated tokens, no model call."""
    seen = {grading.normalise(a) for a in avoid}
    focus = [f for f in facts_of(passages) if grading.normalise(f.prompt) not in seen]
    focus_origins = {f.origin for f in focus}
    pool = focus + [f for f in facts_of(context) if f.origin not in focus_origins]
    made = build.questions(focus, count, kinds, seed, pool=pool)
    tokens_in = sum(estimate_tokens(p.text) for p in passages)
    tokens_out = sum(estimate_tokens(q.prompt + " ".join(t for _, t in q.options) + q.answer) for q in made)
    return made, Usage(tokens_in, tokens_out, 0)
