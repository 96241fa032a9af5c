"""A BM25 index of one document's chunks, and search over several such indexes. Pure.

Built once when a document is processed and stored with it (compressed, in ≤ 900 KB
parts); a retrieval loads it once per instance and caches it, so a query never scans the
chunks: it walks the postings of its own terms only.

Each posting holds the term's BM25 term-frequency part, ``tf·(k1+1) / (tf + k1·(1-b+b·dl/avgdl))``,
computed at index time with the document's own average chunk length, so a query does one
multiply-add per posting. The IDF is computed at query time over the documents searched
together (their chunk counts and document frequencies add up).
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import re
import sys
import zlib
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

K1 = 1.2
B = 0.75
FORMAT = 2
PART_BYTES = 900_000
PRUNE_FROM = 1000  # chunks in an index from which search prunes (MaxScore)

_WORD = re.compile(r"\w+")
_STOPWORDS = """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours yourself yourselves
    og i er det som en på til av for med at den har de ikke et om fra var kan vi seg så men jeg"""
STOPWORDS = frozenset(_STOPWORDS.split())


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _term(word: str) -> str:
    """The index term of a case-folded word ("" for a stopword or a lone letter)."""
    if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
        return ""
    return _stem(word)


_TERMS: dict[str, str] = {}  # word -> term, memoised (bounded)


def terms(text: str) -> list[str]:
    """Index terms of a text: case-folded words, stopwords dropped, plurals folded."""
    out = []
    memo = _TERMS
    for word in _WORD.findall(text.casefold()):
        term = memo.get(word)
        if term is None:
            term = _term(word)
            if len(memo) < 500_000:
                memo[word] = term
        if term:
            out.append(term)
    return out


@dataclass
class Index:
    """Postings of one document: term → (chunk indexes, BM25 tf weights)."""

    chunk_count: int
    postings: dict[str, tuple[list[int], list[float]]]
    # per-instance caches of query-time helpers: a term's largest weight, its postings as a dict
    _max: dict[str, float] = field(default_factory=dict, repr=False, compare=False)
    _dicts: dict[str, dict[int, float]] = field(default_factory=dict, repr=False, compare=False)

    def max_weight(self, term: str) -> float:
        value = self._max.get(term)
        if value is None:
            value = self._max[term] = max(self.postings[term][1])
        return value

    def as_dict(self, term: str) -> dict[int, float]:
        value = self._dicts.get(term)
        if value is None:
            ids, weights = self.postings[term]
            value = self._dicts[term] = dict(zip(ids, weights, strict=True))
        return value

    def to_bytes(self) -> bytes:
        """Compressed: a JSON head (terms and their posting counts), then every posting's
        chunk index (uint32) and weight (float32), little-endian, in term order."""
        terms_ = list(self.postings)
        counts = [len(self.postings[t][0]) for t in terms_]
        ids = array("I", itertools.chain.from_iterable(self.postings[t][0] for t in terms_))
        weights = array("f", itertools.chain.from_iterable(self.postings[t][1] for t in terms_))
        if sys.byteorder == "big":  # pragma: no cover
            ids.byteswap()
            weights.byteswap()
        head = json.dumps(
            {"format": FORMAT, "chunks": self.chunk_count, "terms": terms_, "counts": counts},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        return zlib.compress(len(head).to_bytes(4, "little") + head + ids.tobytes() + weights.tobytes(), 6)

    @classmethod
    def from_bytes(cls, blob: bytes) -> Index:
        raw = zlib.decompress(blob)
        size = int.from_bytes(raw[:4], "little")
        head = json.loads(raw[4 : 4 + size])
        if head.get("format") != FORMAT:
            raise ValueError(f"unknown index format {head.get('format')}")
        total = sum(head["counts"])
        ids, weights = array("I"), array("f")
        start = 4 + size
        ids.frombytes(raw[start : start + 4 * total])
        weights.frombytes(raw[start + 4 * total : start + 8 * total])
        if sys.byteorder == "big":  # pragma: no cover
            ids.byteswap()
            weights.byteswap()
        id_list, weight_list = ids.tolist(), weights.tolist()
        postings: dict[str, tuple[list[int], list[float]]] = {}
        offset = 0
        for term, count in zip(head["terms"], head["counts"], strict=True):
            postings[term] = (id_list[offset : offset + count], weight_list[offset : offset + count])
            offset += count
        return cls(int(head["chunks"]), postings)

    def parts(self, size: int = PART_BYTES) -> list[bytes]:
        """The compressed index cut into pieces that each fit a Firestore document."""
        blob = self.to_bytes()
        return [blob[i : i + size] for i in range(0, len(blob), size)] or [b""]

    @classmethod
    def from_parts(cls, parts: Sequence[bytes]) -> Index:
        return cls.from_bytes(b"".join(parts))


def build(texts: Iterable[str], *, k1: float = K1, b: float = B) -> Index:
    """The index of a document's chunks (``texts`` in chunk order)."""
    counts = [Counter(terms(t)) for t in texts]
    lengths = [sum(c.values()) for c in counts]
    avgdl = (sum(lengths) / len(lengths)) if lengths else 1.0
    postings: dict[str, tuple[list[int], list[float]]] = {}
    for chunk, (counter, dl) in enumerate(zip(counts, lengths, strict=True)):
        norm = k1 * (1 - b + b * dl / max(avgdl, 1e-9))
        for term, tf in counter.items():
            entry = postings.get(term)
            if entry is None:
                entry = postings[term] = ([], [])
            entry[0].append(chunk)
            entry[1].append(tf * (k1 + 1) / (tf + norm))
    return Index(len(counts), postings)


@dataclass(frozen=True)
class Scored:
    source: int  # position of the index in the list searched
    chunk: int
    score: float


def search(indexes: Sequence[Index], query: str, k: int = 8) -> list[Scored]:
    """The ``k`` best chunks of ``indexes`` for ``query`` by BM25, best first."""
    wanted = Counter(terms(query))
    if not wanted or k <= 0:
        return []
    total = sum(ix.chunk_count for ix in indexes)
    idfs: dict[str, float] = {}
    for term, qtf in wanted.items():
        df = sum(len(ix.postings[term][0]) for ix in indexes if term in ix.postings)
        if df:
            idfs[term] = math.log(1 + (total - df + 0.5) / (df + 0.5)) * qtf
    best: list[tuple[float, int, int]] = []
    for pos, ix in enumerate(indexes):
        scores = _score(ix, idfs, k)
        if scores:
            top = heapq.nlargest(k, scores.items(), key=_second)
            best.extend((score, pos, chunk) for chunk, score in top)
    best = heapq.nlargest(k, best)
    return [Scored(pos, chunk, round(score, 4)) for score, pos, chunk in best]


def _score_all(ix: Index, idfs: dict[str, float]) -> dict[int, float]:
    scores: dict[int, float] = {}
    for term, idf in idfs.items():
        entry = ix.postings.get(term)
        if entry is None:
            continue
        get = scores.get
        for chunk, w in zip(*entry, strict=True):
            scores[chunk] = get(chunk, 0.0) + idf * w
    return scores


def _score(ix: Index, idfs: dict[str, float], k: int) -> dict[int, float]:
    """Scores of the chunks of one index that can reach its top k (MaxScore pruning): terms
    go from the largest possible contribution to the smallest; once the k-th best score so
    far is at least what the remaining terms could add up to, a chunk not seen yet cannot
    enter the top k, and the remaining (common, long) postings only update the candidates."""
    if ix.chunk_count < PRUNE_FROM:  # small indexes: pruning costs more than it saves
        return _score_all(ix, idfs)
    present = [(idf * ix.max_weight(t), idf, t) for t, idf in idfs.items() if t in ix.postings]
    present.sort(reverse=True)
    rest = sum(bound for bound, _, _ in present)
    scores: dict[int, float] = {}
    pruning = False
    for bound, idf, term in present:
        ids, weights = ix.postings[term]
        if not pruning and len(scores) >= k and heapq.nlargest(k, scores.values())[-1] >= rest:
            pruning = True
        rest -= bound
        if not scores:
            scores = {chunk: idf * w for chunk, w in zip(ids, weights, strict=True)}
        elif pruning:
            _update_candidates(scores, ix, term, idf)
        else:
            get = scores.get
            for chunk, w in zip(ids, weights, strict=True):
                scores[chunk] = get(chunk, 0.0) + idf * w
    return scores


def _update_candidates(scores: dict[int, float], ix: Index, term: str, idf: float) -> None:
    """Add a term's contribution to the chunks already scored, and to no other."""
    ids, weights = ix.postings[term]
    if len(scores) < len(ids):
        lookup = ix.as_dict(term)
        for chunk in scores:
            w = lookup.get(chunk)
            if w is not None:
                scores[chunk] += idf * w
        return
    for chunk, w in zip(ids, weights, strict=True):
        if chunk in scores:
            scores[chunk] += idf * w


def _second(item: tuple[int, float]) -> float:
    return item[1]
