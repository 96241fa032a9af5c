"""The BM25 index (build, store, search) and the CloudEvent helpers. No I/O."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from aksio import events
from aksio.config import get_config
from aksio.documents import lexical

DOC_A = [
    "Mitochondria are the powerhouse of the cell and make ATP.",
    "Photosynthesis happens in chloroplasts using light energy.",
    "The cell membrane is a lipid bilayer.",
]
DOC_B = [
    "Newton's laws describe motion and forces.",
    "Energy is conserved in a closed system; ATP is not mentioned by Newton.",
]


def test_terms() -> None:
    assert lexical.terms("The Cells are dividing, cells divide!") == ["cell", "dividing", "cell", "divide"]
    assert lexical.terms("og det er 2 studies") == ["2", "study"]


def test_search_ranks_the_matching_chunk_first() -> None:
    a = lexical.build(DOC_A)
    hits = lexical.search([a], "where is ATP made? mitochondria", k=2)
    assert hits[0].chunk == 0
    assert hits[0].score > 0
    assert lexical.search([a], "quantum chromodynamics") == []
    assert lexical.search([a], "   ") == []


def test_search_over_several_documents_names_the_source() -> None:
    a, b = lexical.build(DOC_A), lexical.build(DOC_B)
    hits = lexical.search([a, b], "newton motion forces", k=3)
    assert (hits[0].source, hits[0].chunk) == (1, 0)
    both = lexical.search([a, b], "ATP", k=5)
    assert {(h.source, h.chunk) for h in both} == {(0, 0), (1, 1)}


def test_index_round_trip_in_parts() -> None:
    index = lexical.build([f"chunk {i} word{i} common" for i in range(2000)])
    parts = index.parts(size=1000)
    assert len(parts) > 1
    assert all(len(p) <= 1000 for p in parts)
    again = lexical.Index.from_parts(parts)
    assert again.chunk_count == 2000
    assert lexical.search([again], "word77", k=1)[0].chunk == 77
    assert [h.chunk for h in lexical.search([again], "common word5", k=3)] == [
        h.chunk for h in lexical.search([index], "common word5", k=3)
    ]


def test_empty_index() -> None:
    index = lexical.build([])
    assert lexical.Index.from_parts(index.parts()).chunk_count == 0
    assert lexical.search([index], "anything") == []


def _cloud_event(time: str | None, data: object) -> SimpleNamespace:
    attrs = {"id": "e1", "type": "google.cloud.storage.object.v1.finalized", "source": "//storage"}
    if time is not None:
        attrs["time"] = time
    return SimpleNamespace(get_attributes=lambda: attrs, get_data=lambda: data)


def test_event_parsing_and_max_age(monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(UTC)
    fresh = events.from_cloud_event(_cloud_event(now.isoformat().replace("+00:00", "Z"), {"name": "x"}))
    assert fresh.data == {"name": "x"}
    assert not events.too_old(fresh)
    old = events.from_cloud_event(_cloud_event((now - timedelta(hours=2)).isoformat(), b'{"name": "y"}'))
    assert old.data == {"name": "y"}
    assert events.too_old(old)
    monkeypatch.setenv("EVENT_MAX_AGE_SECONDS", str(3 * 3600))
    get_config.cache_clear()
    assert not events.too_old(old)
    untimed = events.from_cloud_event(_cloud_event(None, "not json"))
    assert untimed.data == {}
    assert not events.too_old(untimed)
    assert events.parse_time("garbage") is None


def _brute(indexes: list[lexical.Index], query: str) -> dict[tuple[int, int], float]:
    """Every chunk's BM25 score, computed the slow way."""
    wanted = Counter(lexical.terms(query))
    total = sum(ix.chunk_count for ix in indexes)
    scores: dict[tuple[int, int], float] = {}
    for term, qtf in wanted.items():
        df = sum(len(ix.postings[term][0]) for ix in indexes if term in ix.postings)
        if not df:
            continue
        idf = math.log(1 + (total - df + 0.5) / (df + 0.5)) * qtf
        for pos, ix in enumerate(indexes):
            for chunk, w in zip(*ix.postings.get(term, ([], [])), strict=True):
                scores[(pos, chunk)] = scores.get((pos, chunk), 0.0) + idf * w
    return scores


@pytest.mark.parametrize("seed", range(6))
def test_pruned_search_finds_the_true_top_k(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexical, "PRUNE_FROM", 100 if seed % 2 else 10**9)  # pruned and not
    rng = random.Random(seed)
    vocab = [f"t{i}" for i in range(300)]
    cum = list(itertools.accumulate(1 / (i + 1) for i in range(len(vocab))))
    indexes = [
        lexical.build(" ".join(rng.choices(vocab, cum_weights=cum, k=rng.randint(5, 120))) for _ in range(150))
        for _ in range(3)
    ]
    for _ in range(40):
        query = " ".join(rng.choices(vocab[:60], k=rng.randint(1, 6)))
        k = rng.choice([1, 3, 8, 20])
        expected = sorted(_brute(indexes, query).values(), reverse=True)[:k]
        got = lexical.search(indexes, query, k)
        assert [h.score for h in got] == pytest.approx([round(s, 4) for s in expected], abs=2e-4), query
        brute = _brute(indexes, query)
        for hit in got:
            assert brute[(hit.source, hit.chunk)] == pytest.approx(hit.score, abs=2e-4)
