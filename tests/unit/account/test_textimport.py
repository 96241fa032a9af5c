"""Parsing text imports: Quizlet's export, Anki's text export headers, CSV quoting, HTML,
cloze notes, and the bad inputs (mixed column counts by line number, empty fields, not text)."""

from __future__ import annotations

import pytest

from aksio import errors
from aksio.account.textimport import MAX_NOTES, parse, plain_text


def test_quizlet_export_is_term_tab_definition() -> None:
    notes = parse(b"photosynthesis\tlight to sugar\nmitosis\tcell division\n").notes
    got = [(n.line, n.front, n.back) for n in notes]
    assert got == [(1, "photosynthesis", "light to sugar"), (2, "mitosis", "cell division")]


def test_anki_text_export_with_headers_html_tags_and_cloze() -> None:
    data = (
        b"#separator:tab\n#html:true\n#notetype column:1\n#tags column:4\n"
        b"Basic\t<b>ATP</b>\tenergy<br>currency &amp; more\tbio energy\n"
        b"Cloze\t{{c1::Oslo}} is in {{c2::Norway}}\t\tgeo\n"
    )
    notes = parse(data).notes
    first = (notes[0].line, notes[0].front, notes[0].back, notes[0].tags)
    assert first == (5, "ATP", "energy\ncurrency & more", ("bio", "energy"))
    assert (notes[1].cloze, notes[1].tags) == ("{{c1::Oslo}} is in {{c2::Norway}}", ("geo",))


@pytest.mark.parametrize(("sep", "name"), [(",", "comma"), (";", "semicolon"), ("|", "pipe")])
def test_named_separators(sep: str, name: str) -> None:
    notes = parse(f"#separator:{name}\na{sep}b\n".encode()).notes
    assert [(n.front, n.back) for n in notes] == [("a", "b")]


def test_csv_quoting_spans_lines_and_lines_keep_their_numbers() -> None:
    notes = parse(b'front,back\n"a, b","multi\nline"\n\nlast,one\n').notes
    got = [(n.line, n.front, n.back) for n in notes]
    assert got == [(1, "front", "back"), (2, "a, b", "multi\nline"), (5, "last", "one")]


def test_mixed_column_counts_name_the_bad_lines() -> None:
    with pytest.raises(errors.Invalid) as info:
        parse(b"a\tb\nc\td\te\nf\tg\nh\n")
    assert info.value.code == "bad_lines"
    assert info.value.details == [{"line": 2, "columns": 3, "expected": 2}, {"line": 4, "columns": 1, "expected": 2}]
    assert "line 2, 4" in info.value.message


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\xff\xfe\x00junk", "not_text"),
        (b"", "no_notes"),
        (b"\n\n", "no_notes"),
        (b"a\t\n", "empty_field"),
        (b"a\t" + b"x" * 11000 + b"\n", "field_too_long"),
        (b"\n".join(b"q%d\ta" % i for i in range(MAX_NOTES + 1)), "too_many_notes"),
    ],
)
def test_bad_files_are_refused_with_a_reason(data: bytes, code: str) -> None:
    with pytest.raises(errors.Invalid) as info:
        parse(data)
    assert info.value.code == code


def test_html_becomes_safe_plain_text() -> None:
    assert plain_text("<script>alert(1)</script><p>One</p><div>Two&nbsp;<i>three</i></div>") == "One\nTwo three"
    assert plain_text("<img src=x onerror=alert(1)>a") == "a"
    assert plain_text("a &lt;b&gt;") == "a <b>"  # text that reads like markup stays text
