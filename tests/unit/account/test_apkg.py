"""Reading Anki packages: a package genanki writes (the legacy collection.anki2), the same
collection as collection.anki21b (zstd), basic and cloze notes, HTML, media counted; and the
packages refused with a reason (not a ZIP, no collection, corrupt SQLite, ZIP bomb, too many
notes)."""

from __future__ import annotations

import io
import os
import sqlite3
import tempfile
import zipfile

import pytest
import zstandard

from aksio import errors
from aksio.account import anki, apkg
from aksio.account.textimport import MAX_NOTES

CARDS = [
    {"id": "c1", "kind": "basic", "front": "<b>ATP</b>?", "back": "energy\ncurrency", "tags": ["bio"]},
    {"id": "c2", "kind": "cloze", "noteId": "n1", "text": "{{c1::Oslo}} is in {{c2::Norway}}"},
]


def package(cards: list[dict[str, object]] = CARDS, media: int = 0) -> bytes:
    data = anki.package("d1", "Deck", cards)
    if not media:
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
        for i in range(media):
            dst.writestr(str(i), b"\x89PNG...")
    return out.getvalue()


def repack(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def collection_of(data: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read("collection.anki2")


def test_a_legacy_package_gives_basic_and_cloze_notes_as_plain_text() -> None:
    got = apkg.parse(package(media=2))
    assert got.collection == "collection.anki2"
    assert got.media_skipped == 2
    notes = sorted(got.notes, key=lambda n: n.line)
    basic = next(n for n in notes if n.cloze is None)
    # our export escapes text into HTML, so text that reads like markup comes back as written
    assert (basic.front, basic.back, basic.tags) == ("<b>ATP</b>?", "energy\ncurrency", ("bio",))
    cloze = next(n for n in notes if n.cloze is not None)
    assert cloze.cloze == "{{c1::Oslo}} is in {{c2::Norway}}"


def test_the_current_format_is_read_from_collection_anki21b() -> None:
    db = collection_of(package())
    packed = repack({"collection.anki21b": zstandard.ZstdCompressor().compress(db), "media": b""})
    got = apkg.parse(packed)
    assert got.collection == "collection.anki21b"
    assert len(got.notes) == 2


def _with_notes(count: int, fields: str = "q{i}\x1fa{i}") -> bytes:
    fd, path = tempfile.mkstemp()
    os.close(fd)
    try:
        with open(path, "wb") as f:
            f.write(collection_of(package()))
        con = sqlite3.connect(path)
        con.executemany(
            "insert into notes (id, guid, mid, mod, usn, tags, flds, sfld, csum, flags, data)"
            " values (?, ?, 1, 0, 0, '', ?, '', 0, 0, '')",
            ((10_000 + i, f"g{i}", fields.format(i=i)) for i in range(count)),
        )
        con.commit()
        con.close()
        with open(path, "rb") as f:
            return repack({"collection.anki2": f.read()})
    finally:
        os.unlink(path)


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: b"just some text", "not_a_zip"),
        (lambda: repack({"readme.txt": b"hello"}), "no_collection"),
        (lambda: repack({"collection.anki2": b"this is not sqlite at all" * 100}), "corrupt_collection"),
        (lambda: repack({"collection.anki21b": b"not zstd"}), "corrupt_collection"),
        (lambda: _with_notes(MAX_NOTES), "too_many_notes"),
    ],
)
def test_bad_packages_are_refused_with_a_reason(make: object, code: str) -> None:
    with pytest.raises(errors.Invalid) as info:
        apkg.parse(make())  # type: ignore[operator]
    assert info.value.code == code


def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    bomb = repack({"collection.anki2": b"\0" * (8 * 1024 * 1024)})
    assert len(bomb) < 20_000
    with pytest.raises(errors.Invalid) as info:
        apkg.parse(bomb, limit=4 * 1024 * 1024)
    assert info.value.code == "zip_bomb"
    # a header that lies about the size is caught while unpacking
    zstd_bomb = repack({"collection.anki21b": zstandard.ZstdCompressor().compress(b"\0" * (8 * 1024 * 1024))})
    with pytest.raises(errors.Invalid) as info:
        apkg.parse(zstd_bomb, limit=4 * 1024 * 1024)
    assert info.value.code == "zip_bomb"


def test_html_of_other_packages_becomes_plain_text() -> None:
    html = "<div>Mito<i>chondria</i></div>\x1f<ul><li>release energy</li><li>have DNA</li></ul><script>x()</script>"
    got = apkg.parse(_with_notes(1, html))
    mito = next(n for n in got.notes if n.front.startswith("Mito"))
    assert (mito.front, mito.back) == ("Mitochondria", "release energy\nhave DNA")
