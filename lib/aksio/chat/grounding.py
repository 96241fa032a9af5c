"""Passages for a question: the tutor's only way into the user's documents, through their
public API (:mod:`aksio.documents.service`).

:func:`retrieve` asks for the best chunks of the chosen documents (BM25 over each chosen
document's index, or their vectors) as :class:`~aksio.ai.base.Passage` with document,
chunk, pages, heading and the document's file name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aksio.ai.base import Passage
from aksio.ai.text import terms

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

TOP_K = 6
MAX_DOCUMENTS = 100


def check_documents(db: Client, uid: str, document_ids: Sequence[str]) -> None:
    """404 (``document_not_found``) when one of the chosen documents is not the caller's (or deleted)."""
    from aksio.documents import service as documents

    documents.require(db, uid, document_ids)


def ready_documents(db: Client, uid: str) -> list[str]:
    """All the user's ready documents (when a question names none)."""
    from aksio.documents import service as documents

    return documents.ready_ids(db, uid, MAX_DOCUMENTS)


def course_documents(db: Client, uid: str, course_id: str, chosen: Sequence[str] | None) -> list[str]:
    """The documents a question scoped to a course searches, like a notebook: ``chosen`` (each
    must be in the course: 404 otherwise) or the course's ready documents (409 when none)."""
    from aksio import errors
    from aksio.courses import service as courses

    if chosen is None:
        ready = courses.ready_document_ids(db, uid, course_id)
        if not ready:
            raise errors.Conflict("The course has no ready documents to answer from.", code="course_has_no_documents")
        return ready[:MAX_DOCUMENTS]
    linked = set(courses.document_ids(db, uid, course_id))
    for doc_id in chosen:
        if doc_id not in linked:
            raise errors.NotFound(f"No document {doc_id} in course {course_id}.", code="document_not_found")
    return list(dict.fromkeys(chosen))


def search_query(question: str, previous_question: str | None) -> str:
    """A follow-up with few content words ("and its function?") is searched together with
    the question before it."""
    if previous_question and len(set(terms(question))) < 3:
        return f"{question} {previous_question}"
    return question


def retrieve(
    db: Client,
    uid: str,
    query: str,
    document_ids: Sequence[str],
    *,
    k: int = TOP_K,
    titles: dict[str, str] | None = None,
) -> list[Passage]:
    from aksio.documents import service as documents

    return documents.search(db, uid, query, document_ids, k=k, names=titles)
