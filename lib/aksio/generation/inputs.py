"""A job's input as passages: pasted text (kept with the job) or document chunks.

Documents are reached through their public API (:mod:`aksio.documents.service`): a document
must be the caller's, not deleted and ``ready``; a document with ``sameAs`` is read through
the document holding its chunks, while citations keep naming the document the user chose.
A job stores its units as ``{"d": document, "h": holder, "i": chunk index}`` (``d`` is
:data:`TEXT` for pasted text, kept under ``jobs/{jobId}/inputs/{00000}``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aksio import firestore as fs
from aksio.ai.base import Passage

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

TEXT = "_text"  # the "document" of a pasted-text unit
JOBS, INPUTS = "jobs", "inputs"


def job_ref(db: Client, uid: str, job_id: str) -> Any:
    return fs.user_col(db, uid, JOBS).document(job_id)


def text_input_ref(db: Client, uid: str, job_id: str, index: int) -> Any:
    return job_ref(db, uid, job_id).collection(INPUTS).document(f"{index:05d}")


def document_units(db: Client, uid: str, document_ids: Sequence[str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The units (one per chunk) of the chosen documents, in document order, and their titles.
    404 for a document that is not the caller's (or deleted); 409 when one is not ready or empty."""
    from aksio.documents import service as documents

    refs, titles = documents.ready_units(db, uid, document_ids)
    return [{"d": r.document_id, "h": r.holder, "i": r.index} for r in refs], titles


def load_passages(
    db: Client, uid: str, job_id: str, units: Sequence[dict[str, Any]], titles: dict[str, str]
) -> list[Passage]:
    """The passages of ``units`` (missing chunks, e.g. of a document deleted meanwhile, are skipped)."""
    from aksio.documents import service as documents
    from aksio.documents.model import ChunkRef

    texts = [int(u["i"]) for u in units if u["d"] == TEXT]
    text_refs = [text_input_ref(db, uid, job_id, i) for i in texts]
    snaps = fs.get_all(db, text_refs).values() if text_refs else []
    pasted = {int(s.id): str(fs.data_of(s).get("text", "")) for s in snaps}
    chunk_refs = [ChunkRef(str(u["d"]), str(u["h"]), int(u["i"])) for u in units if u["d"] != TEXT]
    chunks = documents.passages(db, uid, chunk_refs, titles) if chunk_refs else {}
    out = []
    for u in units:
        if u["d"] == TEXT:
            text = pasted.get(int(u["i"]), "")
            if text.strip():
                out.append(Passage(text=text, chunk_id=f"t{int(u['i']):05d}"))
            continue
        passage = chunks.get(ChunkRef(str(u["d"]), str(u["h"]), int(u["i"])))
        if passage is not None:
            out.append(passage)
    return out
