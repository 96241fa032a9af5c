"""Quizzes' repository: the only code that reads and writes ``users/{uid}/quizzes/{quizId}``
and its ``attempts/{attemptId}`` (and a generated quiz's ``steps/{n}`` records).

Read-modify-write goes through :func:`transact`: one Firestore transaction reads the quiz
and (optionally) an attempt, hands them to a pure ``decide`` function and applies the
:class:`Writes` it returns, so the rules stay in :mod:`aksio.quizzes.model` and the service.
Queries: quizzes and attempts newest first (``createdAt`` / ``startedAt``, single-field);
a course's quizzes newest first (composite index ``quizzes (courseId, createdAt desc)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aksio import firestore as fs
from aksio import paging, usage

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

T = TypeVar("T")
QUIZZES, ATTEMPTS, STEPS = "quizzes", "attempts", "steps"


def quizzes_col(db: Client, uid: str) -> Any:
    return fs.user_col(db, uid, QUIZZES)


def quiz_ref(db: Client, uid: str, quiz_id: str) -> Any:
    return quizzes_col(db, uid).document(quiz_id)


def attempt_ref(db: Client, uid: str, quiz_id: str, attempt_id: str) -> Any:
    return quiz_ref(db, uid, quiz_id).collection(ATTEMPTS).document(attempt_id)


def step_ref(db: Client, uid: str, quiz_id: str, step: int) -> Any:
    return quiz_ref(db, uid, quiz_id).collection(STEPS).document(f"{step:04d}")


@dataclass
class Writes(Generic[T]):
    """What one transaction writes, and what it answers."""

    value: T
    quiz_create: dict[str, Any] | None = None
    quiz_update: dict[str, Any] | None = None
    attempt_create: dict[str, Any] | None = None
    attempt_update: dict[str, Any] | None = None
    step_create: dict[str, Any] | None = None
    charge: usage.Meter | None = None
    tokens: tuple[int, int, int] | None = None  # prompt, completion, calls
    extra: list[tuple[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Read:
    quiz: dict[str, Any] | None
    attempt: dict[str, Any] | None = None
    step_recorded: bool = False


def transact(
    db: Client,
    uid: str,
    quiz_id: str,
    decide: Callable[[Read], Writes[T]],
    *,
    attempt_id: str | None = None,
    step: int | None = None,
    now: datetime,
    what: str,
) -> T:
    """Read the quiz (and the attempt, the step record), decide, write: one transaction."""
    qref = quiz_ref(db, uid, quiz_id)
    aref = attempt_ref(db, uid, quiz_id, attempt_id) if attempt_id else None
    sref = step_ref(db, uid, quiz_id, step) if step is not None else None

    def run(tx: Any) -> T:
        quiz = fs.read(qref, tx)
        attempt = fs.read(aref, tx) if aref is not None else None
        recorded = fs.read(sref, tx) is not None if sref is not None else False
        out = decide(Read(quiz, attempt, recorded))
        if out.charge is not None:
            usage.charge_in(tx, db, uid, out.charge, now)
        if out.quiz_create is not None:
            tx.create(qref, out.quiz_create)
        if out.quiz_update:
            tx.update(qref, fs.stored(out.quiz_update))
        if aref is not None and out.attempt_create is not None:
            tx.create(aref, out.attempt_create)
        if aref is not None and out.attempt_update:
            tx.update(aref, fs.stored(out.attempt_update))
        if sref is not None and out.step_create is not None:
            tx.create(sref, out.step_create)
        if out.tokens is not None and (out.tokens[0] or out.tokens[1] or out.tokens[2]):
            usage.add_tokens_in(tx, db, uid, out.tokens[0], out.tokens[1], out.tokens[2], now)
        return out.value

    return fs.run_transaction(db, run, what=what)


def read_quiz(db: Client, uid: str, quiz_id: str) -> dict[str, Any] | None:
    return fs.read(quiz_ref(db, uid, quiz_id))


def read_attempt(db: Client, uid: str, quiz_id: str, attempt_id: str) -> dict[str, Any] | None:
    return fs.read(attempt_ref(db, uid, quiz_id, attempt_id))


def read_step(db: Client, uid: str, quiz_id: str, step: int) -> dict[str, Any] | None:
    return fs.read(step_ref(db, uid, quiz_id, step))


def update_quiz(db: Client, uid: str, quiz_id: str, changes: dict[str, Any]) -> None:
    quiz_ref(db, uid, quiz_id).update(fs.stored(changes))


def page_quizzes(
    db: Client, uid: str, cursor: str | None, limit: int, *, course_id: str | None = None
) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
    """Newest first; of one course with ``course_id`` (index: quizzes (courseId, createdAt desc))."""
    query = quizzes_col(db, uid)
    if course_id is not None:
        query = query.where(filter=fs.where("courseId", "==", course_id))
    snaps, next_cursor = paging.page(paging.newest_first(query), "createdAt", cursor, limit)
    return [(s.id, fs.data_of(s)) for s in snaps], next_cursor


def page_attempts(
    db: Client, uid: str, quiz_id: str, cursor: str | None, limit: int
) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
    col = quiz_ref(db, uid, quiz_id).collection(ATTEMPTS)
    snaps, next_cursor = paging.page(paging.newest_first(col, "startedAt"), "startedAt", cursor, limit)
    return [(s.id, fs.data_of(s)) for s in snaps], next_cursor


def delete_quiz(db: Client, uid: str, quiz_id: str) -> int:
    """Delete the quiz's attempts and step records, then the quiz; returns the attempts deleted."""
    ref = quiz_ref(db, uid, quiz_id)
    attempts = fs.delete_matching(db, ref.collection(ATTEMPTS))
    fs.delete_matching(db, ref.collection(STEPS))
    ref.delete()
    return attempts


COURSE_STATS_MAX = 1000  # quizzes of one course read for its statistics (newest first)


def course_quiz_stats(db: Client, uid: str, course_id: str) -> list[dict[str, Any]]:
    """The ``stats`` maps of a course's quizzes (at most :data:`COURSE_STATS_MAX`, newest
    first; index: quizzes (courseId, createdAt desc))."""
    query = (
        quizzes_col(db, uid)
        .where(filter=fs.where("courseId", "==", course_id))
        .order_by("createdAt", direction="DESCENDING")
        .select(["stats"])
        .limit(COURSE_STATS_MAX)
    )
    return [dict(fs.data_of(s).get("stats") or {}) for s in query.stream()]
