"""Real files made by the tests: PDF (reportlab), DOCX (python-docx), PPTX (python-pptx),
plain text, and the bad ones (encrypted, truncated, zip bomb)."""

from __future__ import annotations

import io
import zipfile

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
TXT = "text/plain"
MD = "text/markdown"


def sentence(page: int, n: int) -> str:
    return f"Page {page} sentence {n} explains the mitochondria and photosynthesis topic number {page * 100 + n}."


def page_text(page: int, sentences: int = 12) -> list[str]:
    return [sentence(page, n) for n in range(sentences)]


def make_pdf(pages: int, *, sentences: int = 12, encrypt: str | None = None) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, encrypt=encrypt, invariant=True)
    for page in range(1, pages + 1):
        y = 800
        for line in page_text(page, sentences):
            c.drawString(40, y, line)
            y -= 16
        c.showPage()
    c.save()
    return out.getvalue()


def make_docx(sections: list[tuple[str, list[str]]], *, page_breaks: bool = True) -> bytes:
    import docx

    document = docx.Document()
    for i, (title, paragraphs) in enumerate(sections):
        if i and page_breaks:
            document.add_page_break()
        document.add_heading(title, level=1)
        for p in paragraphs:
            document.add_paragraph(p)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_pptx(slides: list[tuple[str, list[str]]]) -> bytes:
    import pptx
    from pptx.util import Inches

    presentation = pptx.Presentation()
    layout = presentation.slide_layouts[1]  # title and content
    for title, bullets in slides:
        slide = presentation.slides.add_slide(layout)
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        body.text = bullets[0]
        for bullet in bullets[1:]:
            body.add_paragraph().text = bullet
        box = slide.shapes.add_textbox(Inches(1), Inches(6), Inches(4), Inches(1))
        box.text_frame.text = f"Footnote of {title}"
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def make_docx_bomb(expanded_mb: int = 300) -> bytes:
    """A valid-looking DOCX whose document.xml expands to ``expanded_mb`` MB (compresses ~1000:1)."""
    real = make_docx([("Title", ["hello"])])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(real)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename == "word/document.xml":
                continue
            dst.writestr(info, src.read(info))
        head = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
        with dst.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(head)
            block = b"A" * (1024 * 1024)
            for _ in range(expanded_mb):
                f.write(block)
            f.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return out.getvalue()


def truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]
