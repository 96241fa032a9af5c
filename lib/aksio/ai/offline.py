"""The offline provider: no key, no network, deterministic. Pure.

Cards come from the text itself:

- definitions ("X is a Y", "X refers to Y", "X: Y" glossary lines) → "What is X?" / Y,
  or a cloze hiding X;
- enumerations ("X include A, B and C", or a line ending in ":" followed by bullets) →
  one card per item (a cloze hiding that item, the others visible);
- key terms and numbers of the remaining sentences → cloze deletions.

Answers quote the sentences that best match the question (term overlap weighted by
rarity), each cited with its passage; with nothing matching it says so instead of guessing.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from aksio.ai import patterns
from aksio.ai.base import (
    Answer,
    CardDraft,
    CardRequest,
    CardResult,
    Citation,
    Delta,
    Passage,
    Turn,
    Usage,
)
from aksio.ai.text import (
    STOPWORDS,
    estimate_tokens,
    is_bullet,
    normalize,
    sentences,
    stem,
    strip_bullet,
    terms,
    words,
)

# text-embedding-3-small's dimension, that of the production vector index on chunks.embedding
# (terraform/firestore.indexes.json): the local Firestore enforces that index, so vectors of
# another dimension could not be searched there, as in production.
EMBEDDING_DIMENSIONS = 1536


@dataclass
class _Candidate:
    draft: CardDraft
    score: float
    position: tuple[int, int, int]


@dataclass
class _State:
    units: list[tuple[int, int, str]]
    freq: Counter[str]
    out: list[_Candidate] = field(default_factory=list)
    defined: dict[str, str] = field(default_factory=dict)
    used: set[tuple[int, int]] = field(default_factory=set)


def _pages(p: Passage) -> str:
    if p.page is None:
        return ""
    if p.last_page is None or p.last_page == p.page:
        return f" (p. {p.page})"
    return f" (pp. {p.page}–{p.last_page})"


def _distinct_sentences(passages: Sequence[Passage]) -> list[tuple[int, str]]:
    """``(passage index, sentence)`` of every sentence once: overlapping chunks hold the same
    sentences, kept with the first passage that holds them, so an answer never quotes (or
    cites) one text twice."""
    units, seen = [], set()
    for pi, p in enumerate(passages):
        for s in sentences(p.text):
            key = normalize(s)
            if key not in seen:
                seen.add(key)
                units.append((pi, s))
    return units


class OfflineProvider:
    name = "offline"

    # -- cards ------------------------------------------------------------------------------

    def generate_cards(self, request: CardRequest) -> CardResult:
        candidates = self._candidates(request.passages)
        allow_basic = "basic" in request.types
        allow_cloze = "cloze" in request.types
        seen = {normalize(f) for f in request.avoid}
        picked: list[_Candidate] = []
        for cand in sorted(candidates, key=lambda c: (-c.score, c.position)):
            draft = self._shape(cand.draft, allow_basic, allow_cloze)
            if (draft.kind == "basic" and not allow_basic) or (draft.kind == "cloze" and not allow_cloze):
                continue
            key = normalize(draft.front if draft.kind == "basic" else patterns.front_of_cloze(draft.text))
            if not key or key in seen:
                continue
            seen.add(key)
            picked.append(_Candidate(draft, cand.score, cand.position))
            if len(picked) >= request.count:
                break
        picked.sort(key=lambda c: c.position)
        text_tokens = sum(estimate_tokens(p.text) for p in request.passages)
        out_tokens = sum(estimate_tokens(c.draft.front + c.draft.back + c.draft.text) for c in picked)
        return CardResult(cards=[c.draft for c in picked], usage=Usage(text_tokens, out_tokens, 0))

    @staticmethod
    def _shape(draft: CardDraft, allow_basic: bool, allow_cloze: bool) -> CardDraft:
        if draft.kind == "cloze" and not allow_cloze:
            return CardDraft(
                kind="basic",
                front=patterns.front_of_cloze(draft.text),
                back=patterns.answer_of_cloze(draft.text),
                passage=draft.passage,
                quote=draft.quote,
            )
        if draft.kind == "basic" and not allow_basic and draft.text:
            return CardDraft(kind="cloze", text=draft.text, passage=draft.passage, quote=draft.quote)
        return draft

    def _candidates(self, passages: Sequence[Passage]) -> list[_Candidate]:
        units = [(pi, si, s) for pi, p in enumerate(passages) for si, s in enumerate(sentences(p.text))]
        state = _State(units=units, freq=Counter(t for _, _, s in units for t in set(terms(s))))
        self._definitions(state)
        self._enumerations(state)
        self._bullet_lists(state)
        self._key_terms(state)
        return state.out

    @staticmethod
    def _definitions(state: _State) -> None:
        for pi, si, s in state.units:
            found = patterns.definition(s)
            if not found:
                continue
            term, verb, body = found
            bare = patterns.strip_article(term)
            state.defined[bare.lower()] = term
            question = patterns.QUESTIONS.get(verb, "What is {}?").format(term)
            clean = patterns.clean(strip_bullet(s) if is_bullet(s) else s)
            if verb == "gloss":
                cloze: str | None = "{{c1::" + bare + "}}: " + patterns.clean(body) + "."
            else:
                cloze = patterns.cloze_of(clean + ".", bare)
            draft = CardDraft(
                kind="basic",
                front=question,
                back=patterns.cap(patterns.clean(body)),
                text=cloze or "",
                passage=pi,
                quote=s,
            )
            state.out.append(_Candidate(draft, 3.0, (pi, si, 0)))
            state.used.add((pi, si))

    @staticmethod
    def _enumerations(state: _State) -> None:
        for pi, si, s in state.units:
            if (pi, si) in state.used:
                continue
            found = patterns.enumeration(s)
            if not found:
                continue
            sentence, start = patterns.clean(s) + ".", 0
            for n, item in enumerate(found[1]):
                idx = sentence.find(item, start)
                if idx < 0:
                    break
                start = idx + len(item)
                text = sentence[:idx] + "{{c1::" + item + "}}" + sentence[idx + len(item) :]
                draft = CardDraft(kind="cloze", text=text, passage=pi, quote=s)
                state.out.append(_Candidate(draft, 2.0, (pi, si, n + 1)))
            state.used.add((pi, si))

    @staticmethod
    def _bullet_lists(state: _State) -> None:
        """A line ending in ":" followed by short bullet items: one card per item."""
        units = state.units
        for k, (pi, si, line) in enumerate(units):
            if not line.endswith(":") or (pi, si) in state.used:
                continue
            items: list[tuple[int, str]] = []
            for pj, sj, nxt in units[k + 1 :]:
                if pj != pi or not is_bullet(nxt):
                    break
                items.append((sj, strip_bullet(patterns.clean(nxt))))
            if len(items) < 2 or not all(1 <= len(words(i)) <= 8 for _, i in items):
                continue
            lead = line[:-1].strip()
            for n in range(len(items)):
                shown = [("{{c1::" + i + "}}" if j == n else i) for j, (_, i) in enumerate(items)]
                draft = CardDraft(kind="cloze", text=f"{lead}: {', '.join(shown)}.", passage=pi, quote=line)
                state.out.append(_Candidate(draft, 2.0, (pi, si, n + 1)))
            state.used.update((pi, sj) for sj, _ in items)
            state.used.add((pi, si))

    def _key_terms(self, state: _State) -> None:
        for pi, si, s in state.units:
            if (pi, si) in state.used or s.endswith(":"):
                continue
            clean = patterns.clean(strip_bullet(s) if is_bullet(s) else s)
            if not 6 <= len(words(clean)) <= 45:
                continue
            answer, score = self._key_term(clean, state.freq, state.defined)
            if not answer:
                continue
            cloze = patterns.cloze_of(clean + ".", answer)
            if cloze is None or not re.sub(r"\{\{c1::.*?\}\}", "", cloze).strip(" .,"):
                continue
            state.out.append(_Candidate(CardDraft(kind="cloze", text=cloze, passage=pi, quote=s), score, (pi, si, 0)))

    @staticmethod
    def _key_term(sentence: str, freq: Counter[str], defined: dict[str, str]) -> tuple[str | None, float]:
        number = patterns.NUMBER.search(sentence)
        if number and len(number.group(0).strip()) >= 2:
            return number.group(0).strip(), 1.5
        for key in sorted(defined, key=len, reverse=True):
            m = re.search(r"\b" + re.escape(key) + r"\b", sentence, re.I)
            if m and m.start() > 0:  # a defined term used in another sentence (not as its subject)
                return m.group(0), 1.8
        best: tuple[float, str] | None = None
        tokens = words(sentence)
        for i, w in enumerate(tokens):
            if w.lower() in STOPWORDS or len(w) < 4 or (i == 0 and not w[:1].isupper()):
                continue
            f = freq.get(stem(w), 1)
            score = math.log(1 + f) + (0.5 if w[:1].isupper() and i > 0 else 0) + min(len(w), 12) / 12
            if best is None or score > best[0]:
                best = (score, w)
        if best is None:
            return None, 0.0
        return best[1], 1.0

    # -- answers ----------------------------------------------------------------------------

    def answer(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = (), on_delta: Delta | None = None
    ) -> Answer:
        wanted = set(terms(question))
        units = _distinct_sentences(passages)
        df = Counter(t for _, s in units for t in set(terms(s)))
        n = max(len(units), 1)
        scored: list[tuple[float, int, int, str]] = []
        for order, (pi, s) in enumerate(units):
            ts = set(terms(s))
            hit = wanted & ts
            if not hit:
                continue
            score = sum(math.log(1 + n / df[t]) for t in hit)
            found = patterns.definition(s)
            if found and set(terms(found[0])) & wanted:
                score *= 1.5  # "what is X" is best answered by X's definition
            if passages[pi].score:
                score += 0.1 * float(passages[pi].score or 0)
            scored.append((score, order, pi, s))
        usage = Usage(estimate_tokens(question) + sum(estimate_tokens(p.text) for p in passages), 0, 0)
        if not scored:
            text = (
                "I could not find anything about that in your documents. "
                "Try other words, or choose the documents to search."
            )
            if on_delta:
                on_delta(text)
            usage.completion_tokens = estimate_tokens(text)
            return Answer(text=text, citations=[], usage=usage, grounded=False)
        scored.sort(key=lambda x: (-x[0], x[1]))
        top = scored[0][0]
        chosen = [x for x in scored[:3] if x[0] >= 0.5 * top]
        chosen.sort(key=lambda x: x[1])
        markers: dict[int, int] = {}
        citations: list[Citation] = []
        parts = ["From your documents:"]
        for _, _, pi, s in chosen:
            if pi not in markers:
                markers[pi] = pi + 1
                citations.append(Citation(marker=pi + 1, passage=passages[pi], quote=s))
            where = _pages(passages[pi])
            parts.append(f"“{s}”{where} [{markers[pi]}]")
        text = "\n\n".join(parts)
        if on_delta:
            for piece in re.findall(r"\S+\s*|\s+", text):
                on_delta(piece)
        usage.completion_tokens = estimate_tokens(text)
        return Answer(text=text, citations=citations, usage=usage)

    # -- embeddings -------------------------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> tuple[list[list[float]], Usage]:
        """Hashed bag-of-stems vectors (EMBEDDING_DIMENSIONS, unit length): crude, but they
        rank passages sharing rare words with a query first, with no model at all."""
        out = []
        for text in texts:
            vec = [0.0] * EMBEDDING_DIMENSIONS
            for t in terms(text):
                h = int.from_bytes(hashlib.blake2b(t.encode(), digest_size=4).digest(), "big")
                vec[h % EMBEDDING_DIMENSIONS] += 1.0 if h & 0x80000000 else -1.0
            norm = math.sqrt(sum(v * v for v in vec)) or 1.0
            out.append([v / norm for v in vec])
        return out, Usage(sum(estimate_tokens(t) for t in texts), 0, 0)
