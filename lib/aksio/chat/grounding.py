"""Passages for a question: the integration point with the documents issue.

:func:`retrieve` asks :func:`aksio.documents.retrieval.top_k` (BM25 over each chosen
document's index) for the best chunks and turns them into :class:`~aksio.ai.base.Passage`
with document, chunk, pages, heading and the document's file name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aksio import errors
from aksio.ai.base import Passage
from aksio.ai.text import terms

TOP_K = 6
MAX_DOCUMENTS = 100


def check_documents(db: Any, uid: str, document_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The caller's chosen documents; 404 when one is not theirs (or deleted)."""
    from aksio.documents import store as docs

    ids = list(dict.fromkeys(document_ids))
    refs = [docs.doc_ref(db, uid, docs.check_doc_id(d)) for d in ids]
    found = {s.id: s.to_dict() or {} for s in db.get_all(refs) if s.exists}
    for doc_id in ids:
        data = found.get(doc_id)
        if not data or data.get("deleted"):
            raise errors.NotFound(f"No document {doc_id}.", code="document_not_found")
    return found


def ready_documents(db: Any, uid: str) -> list[str]:
    """All the user's ready documents (when a question names none)."""
    from aksio.documents import store as docs

    q = docs.documents_col(db, uid).where(filter=docs._f("status", "==", "ready")).limit(MAX_DOCUMENTS)
    return [s.id for s in q.select(["deleted"]).stream() if not (s.to_dict() or {}).get("deleted")]


def search_query(question: str, previous_question: str | None) -> str:
    """A follow-up with few content words ("and its function?") is searched together with
    the question before it."""
    if previous_question and len(set(terms(question))) < 3:
        return f"{question} {previous_question}"
    return question


def retrieve(
    db: Any, uid: str, query: str, document_ids: Sequence[str], *, k: int = TOP_K, titles: dict[str, str] | None = None
) -> list[Passage]:
    from aksio.documents import retrieval

    hits = retrieval.top_k(db, uid, query, list(document_ids), k)
    titles = dict(titles or {})
    missing = [h.document_id for h in hits if h.document_id not in titles]
    if missing:
        from aksio.documents import store as docs

        for snap in db.get_all([docs.doc_ref(db, uid, d) for d in dict.fromkeys(missing)]):
            if snap.exists:
                titles[snap.id] = str((snap.to_dict() or {}).get("filename") or snap.id)
    out = []
    for h in hits:
        pages = [int(p) for p in h.pages]
        out.append(
            Passage(
                text=h.text,
                document_id=h.document_id,
                chunk_id=h.chunk_id,
                page=pages[0] if pages else None,
                last_page=pages[-1] if pages else None,
                heading=h.heading,
                title=titles.get(h.document_id),
                score=h.score,
            )
        )
    return out
