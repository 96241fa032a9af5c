"""A job's input as passages: pasted text (kept with the job) or document chunks.

Documents are read through :mod:`aksio.documents.store` (issue 5): a document must be
the caller's, not deleted and ``ready``; a document with ``sameAs`` is read through the
document holding its chunks (``chunks/{00000}``: text, pages [first, last], heading,
index), while citations keep naming the document the user chose.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aksio import errors
from aksio.ai.base import Passage

TEXT = "_text"  # the "document" of a pasted-text unit


def job_ref(db: Any, uid: str, job_id: str) -> Any:
    return db.collection("users").document(uid).collection("jobs").document(job_id)


def text_input_ref(db: Any, uid: str, job_id: str, index: int) -> Any:
    return job_ref(db, uid, job_id).collection("inputs").document(f"{index:05d}")


def document_units(db: Any, uid: str, document_ids: Sequence[str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The units (one per chunk) of the chosen documents, in document order, and their titles.
    404 for a document that is not the caller's (or deleted); 409 when one is not ready or empty."""
    from aksio.documents import store as docs

    refs = [docs.doc_ref(db, uid, docs.check_doc_id(d)) for d in document_ids]
    found = {s.id: s.to_dict() or {} for s in db.get_all(refs) if s.exists}
    units: list[dict[str, Any]] = []
    titles: dict[str, str] = {}
    for doc_id in document_ids:
        data = found.get(doc_id)
        if not data or data.get("deleted"):
            raise errors.NotFound(f"No document {doc_id}.", code="document_not_found")
        if data.get("status") != "ready":
            raise errors.Conflict(
                f"Document {doc_id} is not ready (status {data.get('status')}).", code="document_not_ready"
            )
        holder = str(data.get("sameAs") or doc_id)
        count = data.get("chunkCount")
        if holder != doc_id or count is None:
            hdata = data if holder == doc_id else (docs.doc_ref(db, uid, holder).get().to_dict() or {})
            count = hdata.get("chunkCount")
        if count is None:
            chunk_refs = docs.doc_ref(db, uid, holder).collection("chunks").select([]).stream()
            indexes = sorted(int(s.id) for s in chunk_refs if s.id.isdigit())
        else:
            indexes = list(range(int(count)))
        if not indexes:
            raise errors.Conflict(f"Document {doc_id} has no text to make cards from.", code="document_empty")
        titles[doc_id] = str(data.get("filename") or data.get("name") or doc_id)
        units += [{"d": doc_id, "h": holder, "i": i} for i in indexes]
    return units, titles


def load_passages(
    db: Any, uid: str, job_id: str, units: Sequence[dict[str, Any]], titles: dict[str, str]
) -> list[Passage]:
    """The passages of ``units`` (missing chunks, e.g. of a document deleted meanwhile, are skipped)."""
    from aksio.documents import store as docs

    refs = []
    for u in units:
        if u["d"] == TEXT:
            refs.append(text_input_ref(db, uid, job_id, int(u["i"])))
        else:
            refs.append(docs.doc_ref(db, uid, u["h"]).collection("chunks").document(docs.chunk_id(int(u["i"]))))
    snaps = {s.reference.path: s.to_dict() or {} for s in db.get_all(refs) if s.exists}
    out = []
    for u, ref in zip(units, refs, strict=True):
        data = snaps.get(ref.path)
        if not data or not str(data.get("text", "")).strip():
            continue
        if u["d"] == TEXT:
            out.append(Passage(text=str(data["text"]), chunk_id=f"t{int(u['i']):05d}"))
            continue
        out.append(chunk_passage(u["d"], ref.id, data, titles.get(u["d"])))
    return out


def chunk_passage(
    doc_id: str, chunk_id: str, data: dict[str, Any], title: str | None, score: float | None = None
) -> Passage:
    pages = [int(p) for p in data.get("pages") or [] if isinstance(p, int | float)]
    return Passage(
        text=str(data.get("text", "")),
        document_id=doc_id,
        chunk_id=chunk_id,
        page=pages[0] if pages else None,
        last_page=pages[-1] if pages else None,
        heading=data.get("heading"),
        title=title,
        score=score,
    )
