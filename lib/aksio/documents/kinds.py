"""What may be uploaded: allowed types, the real type from the bytes, safe object names,
and the decompression-bomb check of DOCX/PPTX (both are zip files). Pure.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from typing import Literal

from aksio.documents.problems import DocumentProblem

Kind = Literal["pdf", "docx", "pptx", "text"]

CONTENT_TYPES: dict[str, Kind] = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "text/plain": "text",
    "text/markdown": "text",
    "text/x-markdown": "text",
}
MARKDOWN_TYPES = {"text/markdown", "text/x-markdown"}
KIND_NAMES: dict[str, str] = {
    "pdf": "a PDF",
    "docx": "a Word document (DOCX)",
    "pptx": "a PowerPoint presentation (PPTX)",
    "text": "a text file",
    "zip": "a zip archive",
    "doc": "an old Office document (DOC/PPT/XLS)",
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "gif": "a GIF image",
    "gzip": "a gzip archive",
    "executable": "a program",
    "binary": "binary data",
    "empty": "empty",
}

# Decompression-bomb limits of DOCX/PPTX (a zip): what the entries would expand to.
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_TOTAL_BYTES = 200 * 1024 * 1024
MAX_ZIP_ENTRY_BYTES = 64 * 1024 * 1024
MAX_ZIP_RATIO = 200  # uncompressed / compressed, for entries above 1 MB

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"\x1f\x8b", "gzip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "doc"),
    (b"\x7fELF", "executable"),
    (b"MZ", "executable"),
)


def kind_of_content_type(content_type: str) -> Kind | None:
    """The kind of a declared content type (parameters such as ``; charset=utf-8`` ignored)."""
    return CONTENT_TYPES.get(content_type.split(";", 1)[0].strip().lower())


def sniff(data: bytes) -> str:
    """What the bytes are: ``pdf``, ``docx``, ``pptx``, ``text``, ``zip``, ``empty`` or another
    name of :data:`KIND_NAMES`, from magic numbers (and, for zips, the entries' names)."""
    if not data.strip():
        return "empty"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    return "text" if looks_like_text(data[:65536]) else "binary"


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "zip"
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    return "zip"


def looks_like_text(sample: bytes) -> bool:
    """Whether a sample reads as text: a UTF-16 BOM, or no NUL bytes and few control bytes."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in sample:
        return False
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls <= len(sample) // 100


def check_type(declared: Kind, data: bytes) -> None:
    """Raise a :class:`DocumentProblem` unless the bytes are what the upload declared."""
    actual = sniff(data)
    if actual == "empty":
        raise DocumentProblem("empty_file", "The file is empty.")
    if actual != declared:
        raise DocumentProblem(
            "type_mismatch",
            f"The file's content is {KIND_NAMES.get(actual, actual)}, not {KIND_NAMES[declared]} as declared.",
        )


def check_zip(data: bytes) -> None:
    """Refuse a zip whose entries would expand beyond the limits (a decompression bomb),
    judging from the central directory before anything is decompressed. Reading an entry
    never yields more than its declared size (``zipfile`` stops there and checks the CRC)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DocumentProblem("corrupt_file", "The file is damaged: its zip structure cannot be read.") from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise DocumentProblem("decompression_bomb", f"The file holds more than {MAX_ZIP_ENTRIES} parts.")
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_ZIP_ENTRY_BYTES or (info.file_size > 1024 * 1024 and ratio > MAX_ZIP_RATIO):
            raise DocumentProblem(
                "decompression_bomb",
                f"The file expands to far more than its size ({info.file_size // (1024 * 1024)} MB in one part): "
                "it looks like a decompression bomb.",
            )
    if total > MAX_ZIP_TOTAL_BYTES:
        raise DocumentProblem(
            "decompression_bomb",
            f"The file expands to more than {MAX_ZIP_TOTAL_BYTES // (1024 * 1024)} MB: "
            "it looks like a decompression bomb.",
        )


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def display_name(filename: str) -> str:
    """The file's name as shown to the user: the last path segment, no control characters."""
    name = _CONTROL.sub("", filename).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return _shorten(name, 200) or "document"


def _shorten(name: str, limit: int) -> str:
    """At most ``limit`` characters, keeping a short extension."""
    if len(name) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    return (stem[: limit - 1 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else name[:limit]


def safe_object_name(filename: str) -> str:
    """An object-name segment made of ``[A-Za-z0-9._-]`` only (accents folded, the rest ``_``),
    never ``.``/``..``/empty, at most 100 characters, keeping the extension."""
    name = display_name(filename)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    safe = _UNSAFE.sub("_", ascii_name).strip("._") or "document"
    return _shorten(safe, 100)
