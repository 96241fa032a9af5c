"""Type sniffing, extraction from real generated files, bad files, chunking. No I/O."""

from __future__ import annotations

import itertools

import pytest

from aksio.documents import kinds
from aksio.documents.chunking import MAX_TOKENS, chunk_blocks, estimate_tokens
from aksio.documents.extract import Block, decode_text, extract, paragraphs
from aksio.documents.problems import DocumentProblem
from tests.unit.documents import samples


def problem(fn, *args, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(DocumentProblem) as info:
        fn(*args, **kw)
    assert info.value.message
    return info.value.code


# -- kinds ----------------------------------------------------------------------------------


def test_sniff_real_files_and_magic_numbers() -> None:
    assert kinds.sniff(samples.make_pdf(1)) == "pdf"
    assert kinds.sniff(samples.make_docx([("A", ["b"])])) == "docx"
    assert kinds.sniff(samples.make_pptx([("A", ["b"])])) == "pptx"
    assert kinds.sniff("héllo wörld\n".encode()) == "text"
    assert kinds.sniff(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50) == "png"
    assert kinds.sniff(b"") == "empty"
    assert kinds.sniff(b"   \n") == "empty"
    assert kinds.sniff(bytes(range(256)) * 10) == "binary"


def test_check_type_mismatch_and_empty() -> None:
    assert problem(kinds.check_type, "pdf", b"just some text pretending") == "type_mismatch"
    assert problem(kinds.check_type, "docx", samples.make_pdf(1)) == "type_mismatch"
    assert problem(kinds.check_type, "text", b"\x89PNG\r\n\x1a\n\x00\x00") == "type_mismatch"
    assert problem(kinds.check_type, "pdf", b"") == "empty_file"
    kinds.check_type("pdf", samples.make_pdf(1))


def test_content_types() -> None:
    assert kinds.kind_of_content_type("application/pdf") == "pdf"
    assert kinds.kind_of_content_type("Text/Markdown; charset=utf-8") == "text"
    assert kinds.kind_of_content_type("image/png") is None


@pytest.mark.parametrize(
    ("name", "safe", "shown"),
    [
        ("../../etc/passwd", "passwd", "passwd"),
        ("a\\b\\c.pdf", "c.pdf", "c.pdf"),
        ("evil\x00\x1b[31mname\n.pdf", "evil_31mname.pdf", "evil[31mname.pdf"),
        ("Forelesning æøå 1.pdf", "Forelesning_a_1.pdf", "Forelesning æøå 1.pdf"),
        ("..", "document", ".."),
        ("///", "document", "document"),
        ("x" * 300 + ".docx", "x" * 95 + ".docx", "x" * 195 + ".docx"),
    ],
)
def test_safe_names(name: str, safe: str, shown: str) -> None:
    assert kinds.safe_object_name(name) == safe
    assert kinds.display_name(name) == shown


def test_zip_bomb_is_refused_before_decompressing() -> None:
    bomb = samples.make_docx_bomb(300)
    assert len(bomb) < 2 * 1024 * 1024
    assert kinds.sniff(bomb) == "docx"
    assert problem(kinds.check_zip, bomb) == "decompression_bomb"
    assert problem(extract, "docx", bomb, max_pages=500) == "decompression_bomb"
    kinds.check_zip(samples.make_docx([("A", ["b"])]))


# -- extraction -----------------------------------------------------------------------------


def test_pdf_pages_and_text() -> None:
    result = extract("pdf", samples.make_pdf(3), max_pages=500)
    assert result.page_count == 3
    assert {b.page for b in result.blocks} == {1, 2, 3}
    text = " ".join(b.text for b in result.blocks if b.page == 2)
    for line in samples.page_text(2):
        assert line in text


def test_pdf_bad_files() -> None:
    pdf = samples.make_pdf(3)
    assert problem(extract, "pdf", samples.truncate(pdf), max_pages=500) == "corrupt_file"
    assert problem(extract, "pdf", b"%PDF-1.4 garbage garbage\n%%EOF", max_pages=500) == "corrupt_file"
    encrypted = samples.make_pdf(2, encrypt="secret")
    assert problem(extract, "pdf", encrypted, max_pages=500) == "encrypted_file"
    assert problem(extract, "pdf", pdf, max_pages=2) == "too_many_pages"


def test_pdf_progress_is_reported() -> None:
    seen: list[float] = []
    extract("pdf", samples.make_pdf(20, sentences=2), max_pages=500, progress=seen.append)
    assert seen
    assert seen[-1] == 1.0
    assert seen == sorted(seen)


def test_docx_headings_pages_and_tables() -> None:
    data = samples.make_docx([("Cells", ["The cell is the unit of life."]), ("Energy", ["ATP stores energy."])])
    result = extract("docx", data, max_pages=500)
    assert result.page_count == 2
    assert [(b.text, b.page, b.heading) for b in result.blocks] == [
        ("Cells", 1, True),
        ("The cell is the unit of life.", 1, False),
        ("Energy", 2, True),
        ("ATP stores energy.", 2, False),
    ]
    many = samples.make_docx([(f"S{i}", ["x"]) for i in range(5)])
    assert problem(extract, "docx", many, max_pages=4) == "too_many_pages"


def test_docx_corrupt() -> None:
    data = samples.make_docx([("A", ["b"])])
    assert problem(extract, "docx", data[:-200], max_pages=500) == "corrupt_file"


def test_pptx_slides() -> None:
    data = samples.make_pptx([("Intro", ["What is a cell", "Why it matters"]), ("Membranes", ["Lipid bilayer"])])
    result = extract("pptx", data, max_pages=500)
    assert result.page_count == 2
    assert ("Intro", 1, True) in [(b.text, b.page, b.heading) for b in result.blocks]
    assert ("Lipid bilayer", 2, False) in [(b.text, b.page, b.heading) for b in result.blocks]
    assert "Footnote of Membranes" in [b.text for b in result.blocks if b.page == 2]
    assert problem(extract, "pptx", data, max_pages=1) == "too_many_pages"


def test_text_and_markdown() -> None:
    text = "First paragraph\ncontinues here.\n\nSecond para-\ngraph.\fPage two."
    result = extract("text", text.encode(), max_pages=500)
    assert result.page_count == 2
    assert [(b.text, b.page) for b in result.blocks] == [
        ("First paragraph continues here.", 1),
        ("Second paragraph.", 1),
        ("Page two.", 2),
    ]
    md = "# Title\n\nIntro text.\n\n## Part\nBody\n```\n# not a heading\n```\n"
    blocks = extract("text", md.encode(), max_pages=500, markdown=True).blocks
    assert [(b.text, b.heading, b.level) for b in blocks][:4] == [
        ("Title", True, 1),
        ("Intro text.", False, 0),
        ("Part", True, 2),
        ("Body ``` # not a heading ```", False, 0),
    ]
    assert problem(extract, "text", b"\n\n  \n", max_pages=500) == "no_text"


def test_decoding_fallbacks() -> None:
    assert decode_text("blåbær".encode()) == "blåbær"
    assert decode_text("blåbær".encode("cp1252")) == "blåbær"
    assert decode_text("\ufeffhei".encode()) == "hei"
    assert decode_text("hei på deg".encode("utf-16")) == "hei på deg"


def test_paragraphs_clean_spacing() -> None:
    assert list(paragraphs("a  b\n\n\n c\td ")) == ["a b", "c d"]


# -- chunking -------------------------------------------------------------------------------


def test_token_estimate() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("one two three four") == 6
    assert estimate_tokens("x" * 400) == 100


def _blocks(pages: int, per_page: int = 10) -> list[Block]:
    return [Block(" ".join(samples.page_text(p, per_page)), p) for p in range(1, pages + 1)]


def test_chunks_are_sized_overlap_and_keep_pages() -> None:
    blocks = _blocks(30)
    chunks = chunk_blocks(blocks)
    assert len(chunks) > 3
    for c in chunks[:-1]:
        assert 700 <= c.token_count <= MAX_TOKENS, c.token_count
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for a, b in itertools.pairwise(chunks):
        assert a.first_page <= a.last_page <= b.first_page + 1
        tail = a.text[-200:]
        overlap = b.text[: len(b.text) // 3]
        assert any(s in overlap for s in tail.split(". ")[-2:-1]), "consecutive chunks overlap"
    # every sentence of the source is in some chunk, on the pages the chunk claims
    for block in blocks:
        for s in samples.page_text(block.page, 10):
            assert any(s in c.text and c.first_page <= block.page <= c.last_page for c in chunks)


def test_chunks_break_at_headings() -> None:
    blocks = [
        Block("Chapter 1", 1, heading=True, level=1),
        Block("Short intro.", 1),
        Block("Chapter 2", 2, heading=True, level=1),
        Block("Section 2.1", 2, heading=True, level=2),
        Block("Body of two.", 2),
    ]
    chunks = chunk_blocks(blocks)
    assert [(c.heading, c.text, c.pages) for c in chunks] == [
        ("Chapter 1", "Chapter 1\n\nShort intro.", [1, 1]),
        ("Section 2.1", "Chapter 2\n\nSection 2.1\n\nBody of two.", [2, 2]),
    ]


def test_long_words_and_sentences_are_cut() -> None:
    chunks = chunk_blocks([Block("x" * 20000, 1), Block(" ".join(["word"] * 3000), 2)])
    assert all(c.token_count <= MAX_TOKENS for c in chunks)
    assert sum(c.text.count("x") for c in chunks) >= 20000
