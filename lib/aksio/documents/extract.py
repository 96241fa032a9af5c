"""Text out of PDF, DOCX, PPTX and plain text/Markdown, as blocks that know their page
(slide, for PPTX) and whether they are headings. Pure: bytes in, blocks out.

pypdfium2, python-docx and python-pptx are imported inside the functions that use them,
so a function that only imports this module starts light.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aksio.documents.kinds import Kind, check_zip
from aksio.documents.problems import DocumentProblem

Progress = Callable[[float], None]


@dataclass(frozen=True)
class Block:
    """A paragraph (or heading, table row, slide title) of text and the page it is on."""

    text: str
    page: int
    heading: bool = False
    level: int = 0


@dataclass(frozen=True)
class Extracted:
    page_count: int
    blocks: list[Block]

    @property
    def chars(self) -> int:
        return sum(len(b.text) for b in self.blocks)


# Pages are a measure of text: a plain-text, Markdown or Word file counts one page per
# PAGE_CHARS characters (a 25 MB .txt is thousands of pages, not one); a PDF page or a slide
# counts as itself unless it holds more than DENSE_PAGE_CHARS, then by its characters too.
PAGE_CHARS = 3000
DENSE_PAGE_CHARS = 6000


def billable_pages(kind: Kind, extracted: Extracted) -> int:
    """The pages a file counts against the plan: its pages, or its text in pages if more."""
    per = DENSE_PAGE_CHARS if kind in ("pdf", "pptx") else PAGE_CHARS
    return max(extracted.page_count, math.ceil(extracted.chars / per))


# A PDF is a compressed program: a few kilobytes can declare pages of any size or streams
# that inflate to gigabytes of text. Bounds checked before a page's text is read: its size
# (points; 14,400 is the largest page Acrobat makes: 200 inches), its area as pixels at 72
# dpi, and its characters (pdfium counts them before extracting).
MAX_PAGE_POINTS = 14_400.0
MAX_PAGE_PIXELS = 50_000_000
MAX_PAGE_CHARS = 100_000


def _bomb(message: str) -> DocumentProblem:
    return DocumentProblem("decompression_bomb", f"The PDF was refused: {message}.")


def extract(
    kind: Kind, data: bytes, *, max_pages: int, markdown: bool = False, progress: Progress | None = None
) -> Extracted:
    """The text of a file of ``kind``; :class:`DocumentProblem` when it cannot be read, has
    more than ``max_pages`` pages (slides) or holds no text."""
    if kind == "pdf":
        result = _pdf(data, max_pages, progress)
    elif kind == "docx":
        result = _docx(data, max_pages)
    elif kind == "pptx":
        result = _pptx(data, max_pages)
    else:
        result = _text(data, max_pages, markdown)
    if not any(b.text.strip() for b in result.blocks):
        hint = " (a scanned document? Text recognition is not supported)" if kind == "pdf" else ""
        raise DocumentProblem("no_text", f"The file contains no text that could be extracted{hint}.")
    return result


def _too_many(count: int, max_pages: int, unit: str = "pages") -> DocumentProblem:
    return DocumentProblem("too_many_pages", f"The file has {count} {unit}; your plan allows at most {max_pages}.")


# -- cleaning -------------------------------------------------------------------------------

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")


# Control characters but tab and line feed, lone surrogates, private use, non-characters,
# soft hyphens and byte-order marks: dropped. Carriage returns become line feeds first.
_DROP = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\ud800-\udfff\ue000-\uf8ff\ufeff\ufff0-\uffff\U000f0000-\U0010ffff]"
)


def clean(text: str) -> str:
    """Drop control and private characters (keeping line breaks and tabs)."""
    return _DROP.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


_BLANK = re.compile(r"\n[ \t]*\n")


def paragraphs(text: str) -> Iterator[str]:
    """Paragraphs of plain text: blank lines separate them; lines inside are joined with a
    space (a word hyphenated across a line break is joined back)."""
    for para in _BLANK.split(_SPACES.sub(" ", text)):
        lines = [line.strip() for line in para.split("\n")]
        lines = [line for line in lines if line]
        if lines:
            yield _join(lines)


def _join(lines: list[str]) -> str:
    parts = [lines[0]]
    for line in lines[1:]:
        last = parts[-1]
        if last.endswith("-") and len(last) > 1 and last[-2].isalpha() and line[:1].islower():
            parts[-1] = last[:-1]
            parts.append(line)
        else:
            parts.append(" ")
            parts.append(line)
    return "".join(parts)


# -- PDF ------------------------------------------------------------------------------------


def _pdf(data: bytes, max_pages: int, progress: Progress | None) -> Extracted:
    import pypdfium2 as pdfium  # type: ignore[import-untyped]
    import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]

    if b"%%EOF" not in data[-2048:]:
        raise DocumentProblem("corrupt_file", "The PDF is incomplete (truncated): upload the whole file again.")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise DocumentProblem(
                "encrypted_file", "The PDF is password-protected: remove the password and upload it again."
            ) from None
        raise DocumentProblem("corrupt_file", "The PDF is damaged and cannot be read.") from None
    try:
        count = len(pdf)
        if count == 0:
            raise DocumentProblem("corrupt_file", "The PDF has no pages.")
        if count > max_pages:
            raise _too_many(count, max_pages)
        blocks: list[Block] = []
        step = max(1, count // 10)
        total = [0]  # characters so far
        for index in range(count):
            page = pdf[index]
            try:
                text = _pdf_page_text(page, index, max_pages, total)
            except pdfium.PdfiumError:
                text = ""  # one unreadable page does not sink the document
            finally:
                page.close()
            blocks.extend(Block(p, index + 1) for p in paragraphs(clean(text)))
            if progress is not None and (index + 1) % step == 0:
                progress((index + 1) / count)
        return Extracted(count, blocks)
    finally:
        pdf.close()


def _pdf_page_text(page: Any, index: int, max_pages: int, total: list[int]) -> str:
    """A page's text, after the bomb bounds (its size, then its character count)."""
    width, height = page.get_size()
    if max(width, height) > MAX_PAGE_POINTS or width * height > MAX_PAGE_PIXELS:
        raise _bomb(f"page {index + 1} is {width:.0f} × {height:.0f} points, larger than any real page")
    textpage = page.get_textpage()
    try:
        chars = textpage.count_chars()
        total[0] += max(chars, 0)
        if chars > MAX_PAGE_CHARS:
            raise _bomb(f"page {index + 1} holds {chars} characters (at most {MAX_PAGE_CHARS})")
        if total[0] > max_pages * DENSE_PAGE_CHARS:
            raise _too_many(math.ceil(total[0] / DENSE_PAGE_CHARS), max_pages)
        return str(textpage.get_text_range())
    finally:
        textpage.close()


# -- DOCX -----------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING = re.compile(r"^(?:heading|overskrift)\s*(\d)$", re.IGNORECASE)


def _docx(data: bytes, max_pages: int) -> Extracted:
    check_zip(data)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise DocumentProblem("corrupt_file", "The Word document is damaged and cannot be read.") from exc
    except Exception as exc:  # lxml / zip errors of a malformed package
        raise DocumentProblem("corrupt_file", "The Word document is damaged and cannot be read.") from exc
    body = document.element.body
    # Word writes lastRenderedPageBreak where its layout broke pages; a document never laid
    # out by Word (generated) has none, and then explicit page breaks are what we have.
    rendered = any(True for _ in body.iter(f"{_W}lastRenderedPageBreak"))
    names = {str(s.style_id): str(s.name or s.style_id) for s in document.styles}
    page = 1
    blocks: list[Block] = []
    for child in body.iterchildren():
        tag = child.tag
        if tag == f"{_W}p":
            text, breaks = _docx_paragraph(child, rendered)
            style = _style_name(names, child)
            match = _HEADING.match(style)
            before = breaks if text.strip() == "" else 0
            page += before
            if text.strip():
                if style.lower() == "title":
                    blocks.append(Block(text, page, heading=True, level=1))
                elif match:
                    blocks.append(Block(text, page, heading=True, level=int(match.group(1))))
                else:
                    blocks.append(Block(text, page))
            page += breaks - before
        elif tag == f"{_W}tbl":
            blocks.extend(_docx_table(child, page))
        if page > max_pages:
            raise _too_many(page, max_pages)
    return Extracted(page, blocks)


def _docx_table(table: Any, page: int) -> Iterator[Block]:
    for row in table.iter(f"{_W}tr"):
        cells = [_line("".join(t.text or "" for t in cell.iter(f"{_W}t"))) for cell in row.iter(f"{_W}tc")]
        line = " | ".join(c for c in cells if c)
        if line:
            yield Block(clean(line), page)


def _docx_paragraph(p: Any, rendered: bool) -> tuple[str, int]:
    parts: list[str] = []
    breaks = 0
    for el in p.iter():
        tag = el.tag
        if tag == f"{_W}t":
            parts.append(el.text or "")
        elif tag == f"{_W}tab":
            parts.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            if el.get(f"{_W}type") == "page":
                breaks += 0 if rendered else 1
            else:
                parts.append("\n")
        elif tag == f"{_W}lastRenderedPageBreak" and rendered:
            breaks += 1
    return _line(clean("".join(parts)).replace("\n", " ")), breaks


def _style_name(names: dict[str, str], p: Any) -> str:
    ppr = p.find(f"{_W}pPr")
    style = ppr.find(f"{_W}pStyle") if ppr is not None else None
    if style is None:
        return ""
    style_id = style.get(f"{_W}val") or ""
    return names.get(style_id, style_id)


# -- PPTX -----------------------------------------------------------------------------------


def _pptx(data: bytes, max_pages: int) -> Extracted:
    check_zip(data)
    import pptx
    from pptx.exc import PackageNotFoundError

    try:
        presentation = pptx.Presentation(io.BytesIO(data))
        slides = list(presentation.slides)
    except PackageNotFoundError as exc:
        raise DocumentProblem("corrupt_file", "The presentation is damaged and cannot be read.") from exc
    except Exception as exc:  # lxml / zip errors of a malformed package
        raise DocumentProblem("corrupt_file", "The presentation is damaged and cannot be read.") from exc
    if len(slides) > max_pages:
        raise _too_many(len(slides), max_pages, "slides")
    blocks: list[Block] = []
    for number, slide in enumerate(slides, start=1):
        title_shape = slide.shapes.title
        if title_shape is not None and title_shape.has_text_frame:
            title = _line(clean(title_shape.text_frame.text).replace("\n", " "))
            if title:
                blocks.append(Block(title, number, heading=True, level=1))
        for shape in _shapes(slide.shapes):
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            blocks.extend(_shape_blocks(shape, number))
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None:
                blocks.extend(Block(p, number) for p in paragraphs(clean(notes.text)))
    return Extracted(len(slides), blocks)


def _shapes(shapes: Any) -> Iterator[Any]:
    for shape in shapes:
        if getattr(shape, "shape_type", None) == 6:  # MSO_SHAPE_TYPE.GROUP
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _shape_blocks(shape: Any, number: int) -> Iterator[Block]:
    if getattr(shape, "has_text_frame", False):
        for paragraph in shape.text_frame.paragraphs:
            text = _line(clean("".join(r.text for r in paragraph.runs)))
            if text:
                yield Block(text, number)
    if getattr(shape, "has_table", False):
        for row in shape.table.rows:
            line = " | ".join(c for c in (_line(clean(cell.text)) for cell in row.cells) if c)
            if line:
                yield Block(line, number)


# -- text and Markdown ----------------------------------------------------------------------

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 (never fails)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _text(data: bytes, max_pages: int, markdown: bool) -> Extracted:
    # a form feed is the only page break plain text has
    pages = [clean(p) for p in decode_text(data).replace("\r\n", "\n").split("\f")]
    if len(pages) > max_pages:
        raise _too_many(len(pages), max_pages)
    blocks: list[Block] = []
    for number, page_text in enumerate(pages, start=1):
        if not markdown:
            blocks.extend(Block(p, number) for p in paragraphs(page_text))
            continue
        pending: list[str] = []
        in_code = False
        for raw in page_text.split("\n"):
            if raw.lstrip().startswith("```"):
                in_code = not in_code
            match = None if in_code else _MD_HEADING.match(raw.strip())
            if match:
                blocks.extend(Block(p, number) for p in paragraphs("\n".join(pending)))
                pending = []
                blocks.append(Block(_line(match.group(2)), number, heading=True, level=len(match.group(1))))
            else:
                pending.append(raw)
        blocks.extend(Block(p, number) for p in paragraphs("\n".join(pending)))
    return Extracted(len(pages), blocks)
