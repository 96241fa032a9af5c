"""The courses' Firestore: the only code that reads and writes ``users/{uid}/courses``.

Queries: the list (``createdAt``, ``__name__``, single-field indexes) and the create
transaction's look at the user's courses (ids only, at most ``MAX_COURSES + 1``), which keeps
the limit of :data:`aksio.courses.model.MAX_COURSES` in the same transaction as the create.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aksio import firestore as fs
from aksio import paging
from aksio.courses.model import MAX_COURSES, too_many_courses

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

COURSES = "courses"
T = TypeVar("T")


class Exists(Exception):
    """A course of that id exists already."""


def _col(db: Client, uid: str) -> Any:
    return fs.user_col(db, uid, COURSES)


def read(db: Client, uid: str, course_id: str) -> dict[str, Any] | None:
    return fs.read(_col(db, uid).document(course_id))


def create(db: Client, uid: str, course_id: str, doc: dict[str, Any]) -> None:
    """Create the course unless the user has :data:`MAX_COURSES` already (409), in one
    transaction; :class:`Exists` when ``course_id`` is taken."""
    col = _col(db, uid)
    ref = col.document(course_id)

    def run(tx: Any) -> None:
        if ref.get(transaction=tx).exists:
            raise Exists(course_id)
        existing = list(tx.get(col.select([]).limit(MAX_COURSES + 1)))
        if len(existing) >= MAX_COURSES:
            raise too_many_courses()
        tx.create(ref, doc)

    fs.run_transaction(db, run, what="course create")


def page(db: Client, uid: str, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    query = _col(db, uid).order_by("createdAt").order_by("__name__")
    return paging.page(query, "createdAt", cursor, limit)


def change(db: Client, uid: str, course_id: str, fn: Callable[[dict[str, Any] | None], dict[str, Any] | None]) -> Any:
    """Read the course and apply ``fn(data) → changes`` (None: nothing to write) in one
    transaction; returns the course after the change (None when it does not exist)."""
    ref = _col(db, uid).document(course_id)

    def run(tx: Any) -> dict[str, Any] | None:
        data = fs.read(ref, tx)
        changes = fn(data)
        if data is None:
            return None
        if changes:
            tx.update(ref, fs.stored(changes))
            data = data | changes
        return data

    return fs.run_transaction(db, run, what="course change")


def delete(db: Client, uid: str, course_id: str) -> None:
    _col(db, uid).document(course_id).delete()
