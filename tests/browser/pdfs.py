"""PDFs for the browser tests: the course reader of tests/unit/quizzes/corpus.py (real text
with facts the tutor can quote), optionally padded to a size with a page holding a photo-like
image of noise (incompressible, so the file really is that large)."""

from __future__ import annotations

import io
import os

from tests.unit.quizzes import corpus


def reader(pages: int = 6) -> bytes:
    return corpus.make_pdf(pages)


def large(size_bytes: int, pages: int = 6) -> bytes:
    """A PDF of ``pages`` pages of the reader plus one image page, within 1% of ``size_bytes``."""
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    text = len(reader(pages))
    side = int(((size_bytes - text) / 3 / 1.25) ** 0.5)  # reportlab stores images Flate + ASCII85 (5 bytes per 4)
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=True)
    for page_lines in corpus.lines(pages):
        y = 800
        c.setFont("Helvetica", 10)
        for line in page_lines:
            c.drawString(40, y, line)
            y -= 14
        c.showPage()
    c.drawImage(ImageReader(image), 40, 200, width=500, height=500)
    c.setFont("Helvetica", 10)
    c.drawString(40, 760, "Figure 1. A field of noise, for size.")
    c.showPage()
    c.save()
    return out.getvalue()
