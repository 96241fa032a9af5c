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
