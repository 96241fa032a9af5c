"""The offline provider: real cards from the text (definitions, enumerations split into
atomic cards, key terms and numbers as cloze), every card cited, no duplicate fronts, and
answers that quote the best passage with its citation."""

from __future__ import annotations

import pytest

from aksio.ai.base import CardRequest, Passage, check_draft
from aksio.ai.offline import OfflineProvider
from aksio.ai.patterns import definition, enumeration
from aksio.ai.text import normalize, sentences
from aksio.study.model import cloze_cards

BIOLOGY = Passage(
    text=(
        "The cell is the basic unit of life. Mitochondria are organelles that release energy from glucose. "
        "Photosynthesis is the process by which plants convert light energy into chemical energy.\n\n"
        "The phases of mitosis include prophase, metaphase, anaphase and telophase. "
        "Robert Hooke first described cells in 1665.\n\n"
        "The main parts of a cell:\n- the nucleus\n- the cytoplasm\n- the cell membrane\n\n"
        "Osmosis: the movement of water across a membrane from low to high solute concentration."
    ),
    document_id="d1",
    chunk_id="00000",
    page=3,
)
HISTORY = Passage(
    text="The French Revolution began in 1789. Napoleon Bonaparte was crowned emperor in 1804.",
    document_id="d2",
    chunk_id="00004",
    page=9,
)
provider = OfflineProvider()


def fronts(cards: list) -> list[str]:  # type: ignore[type-arg]
    return [c.front if c.kind == "basic" else cloze_cards(c.text)[0].front for c in cards]


def test_cards_are_real_cited_and_unique() -> None:
    result = provider.generate_cards(CardRequest(passages=[BIOLOGY, HISTORY], count=50))
    cards = result.cards
    assert len(cards) >= 12
    assert all(check_draft(c, 2) is None for c in cards)
    keys = [normalize(f) for f in fronts(cards)]
    assert len(set(keys)) == len(keys)
    assert {c.passage for c in cards} == {0, 1}
    assert all(c.quote for c in cards)
    basic = {c.front: c.back for c in cards if c.kind == "basic"}
    assert basic["What is the cell?"] == "The basic unit of life"
    assert basic["What are Mitochondria?"].startswith("Organelles that release energy")
    assert basic["What is Osmosis?"].startswith("The movement of water")
    cloze = [c.text for c in cards if c.kind == "cloze"]
    # the enumeration becomes one card per item, each hiding one item
    mitosis = [t for t in cloze if "mitosis" in t]
    assert len(mitosis) == 4
    assert all(t.count("{{c1::") == 1 for t in cloze)
    assert "The main parts of a cell: the nucleus, {{c1::the cytoplasm}}, the cell membrane." in cloze
    assert "Robert Hooke first described cells in {{c1::1665}}." in cloze
    assert "The French Revolution began in {{c1::1789}}." in cloze


def test_count_types_and_avoid() -> None:
    three = provider.generate_cards(CardRequest(passages=[BIOLOGY], count=3)).cards
    assert len(three) == 3
    assert [c.front for c in three] == ["What is the cell?", "What are Mitochondria?", "What is Photosynthesis?"]
    basic_only = provider.generate_cards(CardRequest(passages=[BIOLOGY], count=50, types=("basic",))).cards
    assert {c.kind for c in basic_only} == {"basic"}
    assert any(c.front.startswith("The phases of mitosis include [...]") and c.back == "prophase" for c in basic_only)
    cloze_only = provider.generate_cards(CardRequest(passages=[BIOLOGY], count=50, types=("cloze",))).cards
    assert {c.kind for c in cloze_only} == {"cloze"}
    assert "The {{c1::cell}} is the basic unit of life." in [c.text for c in cloze_only]
    avoided = provider.generate_cards(CardRequest(passages=[BIOLOGY], count=3, avoid=("what is the cell",))).cards
    assert "What is the cell?" not in [c.front for c in avoided]


def test_deterministic_and_empty_input() -> None:
    request = CardRequest(passages=[BIOLOGY, HISTORY], count=20)
    assert provider.generate_cards(request).cards == provider.generate_cards(request).cards
    assert provider.generate_cards(CardRequest(passages=[Passage(text="   ")], count=5)).cards == []
    usage = provider.generate_cards(request).usage
    assert usage.prompt_tokens > 0
    assert usage.calls == 0


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "Osmosis is the movement of water across a membrane.",
            ("Osmosis", "is", "the movement of water across a membrane"),
        ),
        ("A gene refers to a unit of heredity.", ("a gene", "refers", "a unit of heredity")),
        ("It is a good idea to revise.", None),
        ("There are many ways to learn.", None),
        ("Entropy: a measure of disorder in a system.", ("Entropy", "gloss", "a measure of disorder in a system")),
    ],
)
def test_definitions(sentence: str, expected: tuple[str, str, str] | None) -> None:
    assert definition(sentence) == expected


def test_enumerations() -> None:
    assert enumeration("Primary colours include red, yellow and blue.") == (
        "Primary colours include",
        ["red", "yellow", "blue"],
    )
    assert enumeration("I like red and blue.") is None


def test_sentences_keep_list_items_apart() -> None:
    assert sentences("Intro line:\n- one\n- two\nLast sentence. Another one.") == [
        "Intro line:",
        "- one",
        "- two",
        "Last sentence.",
        "Another one.",
    ]


def test_answers_quote_the_best_passage_with_its_citation() -> None:
    answer = provider.answer("When did the French Revolution begin?", [BIOLOGY, HISTORY])
    assert answer.grounded
    assert [(c.marker, c.passage.document_id, c.passage.page) for c in answer.citations] == [(2, "d2", 9)]
    assert "“The French Revolution began in 1789.” (p. 9) [2]" in answer.text
    defined = provider.answer("What is photosynthesis?", [BIOLOGY, HISTORY])
    assert "Photosynthesis is the process" in defined.text
    pieces: list[str] = []
    streamed = provider.answer("What is photosynthesis?", [BIOLOGY], on_delta=pieces.append)
    assert "".join(pieces) == streamed.text
    nothing = provider.answer("Who painted the Mona Lisa?", [BIOLOGY])
    assert not nothing.grounded
    assert nothing.citations == []
    assert provider.answer("anything", []).citations == []


def test_embeddings_rank_related_text_first() -> None:
    (query, near, far), _ = provider.embed(["cells divide by mitosis", "mitosis divides cells", "Napoleon emperor"])
    dot = lambda a, b: sum(x * y for x, y in zip(a, b, strict=True))  # noqa: E731
    assert len(query) == 1536
    assert dot(query, near) > dot(query, far)


def test_the_provider_is_offline_without_a_key_and_openai_with_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from aksio import secrets
    from aksio.ai import get_provider, reset_provider
    from aksio.config import get_config

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setattr(secrets, "_cache", {})
    reset_provider()
    try:
        assert get_provider().name == "offline"
        reset_provider()
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
        get_config.cache_clear()
        provider = get_provider()
        assert provider.name == "openai"
        assert get_provider() is provider  # once per instance
        assert provider.settings.base_url == "http://127.0.0.1:9/v1"  # type: ignore[attr-defined]
        assert "openai" not in sys.modules or provider._client is None  # type: ignore[attr-defined]
    finally:
        reset_provider()


def test_a_passage_over_several_pages_is_cited_with_its_range() -> None:
    spread = Passage(text="Enzymes are proteins that speed up reactions.", document_id="d", page=4, last_page=6)
    answer = provider.answer("What are enzymes?", [spread])
    assert "(pp. 4–6) [1]" in answer.text
    assert answer.citations[0].to_stored() == {
        "marker": 1,
        "documentId": "d",
        "page": 4,
        "lastPage": 6,
        "quote": "Enzymes are proteins that speed up reactions.",
    }


def test_overlapping_chunks_never_make_an_answer_repeat_a_passage() -> None:
    """Two overlapping chunks both hold the best sentence: it is quoted once, cited once."""
    shared = "Mitochondria are organelles that release energy from glucose."
    first = Passage(text=f"The cell is the unit of life. {shared}", document_id="d", chunk_id="c0", page=1)
    second = Passage(text=f"{shared} Mitochondria have their own DNA.", document_id="d", chunk_id="c1", page=2)
    answer = OfflineProvider().answer("What do mitochondria release?", [first, second])
    assert answer.text.count(shared) == 1
    quotes = [c.quote for c in answer.citations]
    assert len(quotes) == len(set(quotes))
