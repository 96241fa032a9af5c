"""Cards from text files: Quizlet's export (term TAB definition per line) and Anki's text
export (``#separator:tab`` and the other ``#key:value`` headers), or any CSV/TSV of front and
back. Pure: bytes in, notes or the bad lines out.

Every data line must have as many columns as the first one (or as ``#columns`` names): a
file with lines of other widths fails as a whole, naming the lines (1-based, as an editor
numbers them). A note whose first field holds ``{{c1::...}}`` deletions (or whose notetype
column says Cloze) is a cloze note. HTML (``#html:true``, or tags found in a field) is reduced
to plain text: tags dropped, ``<br>`` and block ends as line breaks, entities decoded.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from aksio import errors

MAX_NOTES = 50_000
MAX_FIELD_BYTES = 10 * 1024  # a card's text (aksio.study.model.MAX_TEXT_BYTES)
MAX_BAD_LINES_LISTED = 50
SEPARATORS = {"tab": "\t", "comma": ",", "semicolon": ";", "space": " ", "pipe": "|", "colon": ":"}
_CLOZE = re.compile(r"\{\{c\d+::")
_TAG = re.compile(r"<[a-zA-Z/!][^>]*>")


@dataclass(frozen=True)
class Note:
    line: int
    front: str = ""
    back: str = ""
    cloze: str | None = None
    tags: tuple[str, ...] = ()


@dataclass
class Parsed:
    notes: list[Note] = field(default_factory=list)
    separator: str = "\t"
    html: bool = False


class _Text(HTMLParser):
    BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BREAKS and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def plain_text(value: str) -> str:
    """HTML as safe plain text (no markup survives)."""
    parser = _Text()
    parser.feed(value)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line).strip()


def _headers(lines: list[str]) -> tuple[dict[str, str], int]:
    """Anki's ``#key:value`` header lines at the top, and how many lines they take."""
    found: dict[str, str] = {}
    count = 0
    for line in lines:
        if not line.startswith("#") or ":" not in line:
            break
        key, _, value = line[1:].partition(":")
        found[key.strip().lower()] = value.strip()
        count += 1
    return found, count


def _separator(headers: dict[str, str], first: str) -> str:
    named = headers.get("separator")
    if named:
        return SEPARATORS.get(named.lower(), named[:1])
    if "\t" in first:
        return "\t"
    for candidate in (",", ";"):
        if candidate in first:
            return candidate
    return "\t"


def _column(headers: dict[str, str], key: str) -> int | None:
    value = headers.get(key)
    if value and value.isdigit() and int(value) > 0:
        return int(value) - 1
    return None


def bad_lines(lines: list[tuple[int, int]], expected: int) -> errors.Invalid:
    numbers = [n for n, _ in lines]
    listed = ", ".join(str(n) for n in numbers[:MAX_BAD_LINES_LISTED])
    more = f" and {len(numbers) - MAX_BAD_LINES_LISTED} more" if len(numbers) > MAX_BAD_LINES_LISTED else ""
    return errors.Invalid(
        f"Every line needs {expected} columns; line {listed}{more} do not.",
        code="bad_lines",
        details=[{"line": n, "columns": c, "expected": expected} for n, c in lines[:MAX_BAD_LINES_LISTED]],
    )


def parse(data: bytes) -> Parsed:  # noqa: PLR0912, PLR0915 - one pass over the file, each rule a branch
    """The notes of a text file, or :class:`aksio.errors.Invalid` (``not_text``,
    ``bad_lines``, ``empty_field``, ``too_many_notes``, ``field_too_long``, ``no_notes``)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise errors.Invalid("The file is not UTF-8 text.", code="not_text") from None
    if "\x00" in text:
        raise errors.Invalid("The file is not text.", code="not_text")
    lines = text.splitlines()
    headers, skip = _headers(lines)
    body = lines[skip:]
    first = next((line for line in body if line.strip()), "")
    sep = _separator(headers, first)
    html = headers.get("html", "").lower() == "true"
    special = {
        c
        for c in (_column(headers, "guid column"), _column(headers, "deck column"), _column(headers, "notetype column"))
        if c is not None
    }
    tags_col, type_col = _column(headers, "tags column"), _column(headers, "notetype column")
    named = headers.get("columns")
    expected = len(named.split(sep)) if named else None
    reader = csv.reader(io.StringIO("\n".join(body)), delimiter=sep, quotechar='"', strict=False)
    rows: list[tuple[int, list[str]]] = []
    start = 0
    for row in reader:
        line, start = skip + start + 1, reader.line_num  # a quoted field may span lines: its first
        if not row or not any(cell.strip() for cell in row):
            continue
        rows.append((line, row))
        if len(rows) > MAX_NOTES:
            raise errors.Invalid(f"At most {MAX_NOTES} notes per import.", code="too_many_notes")
    if not rows:
        raise errors.Invalid("The file holds no cards.", code="no_notes")
    expected = expected or len(rows[0][1])
    wrong = [(n, len(r)) for n, r in rows if len(r) != expected]
    if wrong:
        raise bad_lines(wrong, expected)
    out = Parsed(separator=sep, html=html)
    empty: list[int] = []
    for n, row in rows:
        fields = [c for i, c in enumerate(row) if i not in special and i != tags_col]
        fields = [plain_text(f) if html or _TAG.search(f) else f.strip() for f in fields]
        tags = tuple(row[tags_col].split()) if tags_col is not None and tags_col < len(row) else ()
        kind = row[type_col].lower() if type_col is not None and type_col < len(row) else ""
        front = fields[0] if fields else ""
        back = "\n".join(f for f in fields[1:] if f)
        if any(len(f.encode()) > MAX_FIELD_BYTES for f in fields):
            raise errors.Invalid(f"Line {n} has a field over {MAX_FIELD_BYTES} bytes.", code="field_too_long")
        if "cloze" in kind or _CLOZE.search(front):
            out.notes.append(Note(n, cloze=front, tags=tags)) if front else empty.append(n)
        elif front and back:
            out.notes.append(Note(n, front=front, back=back, tags=tags))
        else:
            empty.append(n)
    if empty:
        listed = ", ".join(str(n) for n in empty[:MAX_BAD_LINES_LISTED])
        raise errors.Invalid(
            f"A card needs a front and a back; line {listed} lack one.",
            code="empty_field",
            details=[{"line": n} for n in empty[:MAX_BAD_LINES_LISTED]],
        )
    return out
