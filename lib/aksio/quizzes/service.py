"""Quizzes: create (from a deck at once, from documents as a job), read, delete; attempts:
start, answer, submit (graded once), history; misses → cards.

Every path starts at ``users/{uid}``, so another user's quiz or attempt is not found (404).
The answer key stays on the server: views are built from :meth:`Question.public` until
the attempt is submitted. Generated quizzes' steps are :mod:`aksio.quizzes.jobs`.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aksio import errors
from aksio import firestore as fs
from aksio.quizzes import api, build
from aksio.quizzes import model as m
from aksio.quizzes import repository as repo
from aksio.quizzes.repository import Read, Writes

if TYPE_CHECKING:  # pragma: no cover
    from aksio.ai.base import Usage

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

    from aksio.quizzes.jobs import Enqueue

MAX_DECK_CARDS = 2000
CARD_FIELDS = ("kind", "front", "back", "text", "clozeIndex", "source")  # what a question needs of a card
QUIZ_TAG = "quiz-miss"


def request_hash(body: api.NewQuiz) -> str:
    return hashlib.sha256(body.model_dump_json(exclude={"id"}).encode()).hexdigest()


def _not_found(quiz_id: str) -> errors.NotFound:
    return errors.NotFound(f"No quiz {quiz_id}.", code="quiz_not_found")


def quiz_or_404(data: dict[str, Any] | None, quiz_id: str) -> dict[str, Any]:
    if data is None:
        raise _not_found(quiz_id)
    return data


def attempt_or_404(data: dict[str, Any] | None, attempt_id: str) -> dict[str, Any]:
    if data is None:
        raise errors.NotFound(f"No attempt {attempt_id}.", code="attempt_not_found")
    return data


# -- views ------------------------------------------------------------------------------------


def public_questions(data: dict[str, Any]) -> list[api.QuizQuestion]:
    return [api.QuizQuestion.model_validate(q.public()) for q in m.questions_of(data)]


def quiz_view(quiz_id: str, data: dict[str, Any], *, questions: bool = True) -> api.Quiz:
    stats = data.get("stats") or {}
    tokens = data.get("tokens")
    error = data.get("error")
    generated = data.get("source") == "documents"
    return api.Quiz(
        id=quiz_id,
        title=str(data.get("title") or "Quiz"),
        source=data.get("source", "deck"),
        status=data.get("status", "ready"),
        deck_id=data.get("deckId"),
        document_ids=list(data.get("documentIds") or []),
        course_id=data.get("courseId"),
        kinds=list(data.get("kinds") or []),
        requested_count=int(data.get("requestedCount") or 0),
        question_count=len(data.get("questions") or []),
        time_limit_seconds=data.get("timeLimitSeconds"),
        questions=public_questions(data) if questions else [],
        stats=api.QuizStats(
            attempts=int(stats.get("attempts") or 0),
            submitted=int(stats.get("submitted") or 0),
            best_percent=stats.get("bestPercent"),
            last_percent=stats.get("lastPercent"),
            last_submitted_at=stats.get("lastSubmittedAt"),
        ),
        progress=(
            api.QuizProgress(steps_done=int(data.get("stepsDone") or 0), steps_total=int(data.get("stepsTotal") or 0))
            if generated
            else None
        ),
        tokens_used=(
            api.QuizTokens(
                prompt=int(tokens.get("promptTokens") or 0),
                completion=int(tokens.get("completionTokens") or 0),
                total=int(tokens.get("totalTokens") or 0),
            )
            if isinstance(tokens, dict)
            else None
        ),
        model_calls=int(tokens.get("calls") or 0) if isinstance(tokens, dict) else None,
        provider=data.get("provider"),
        error=api.QuizError(code=error.get("code", "failed"), message=error.get("message", "")) if error else None,
        created_at=data.get("createdAt"),
        updated_at=data.get("updatedAt"),
    )


def attempt_view(
    quiz_id: str, attempt_id: str, quiz: dict[str, Any], attempt: dict[str, Any], now: datetime
) -> api.QuizAttempt:
    state = m.state_of(attempt, now)
    result = attempt.get("result") if state == m.SUBMITTED else None
    answers = {k: g for k, v in (attempt.get("answers") or {}).items() if (g := api.given_of(v)) is not None}
    return api.QuizAttempt(
        id=attempt_id,
        quiz_id=quiz_id,
        status=state,
        started_at=attempt.get("startedAt"),
        expires_at=attempt.get("expiresAt"),
        submitted_at=attempt.get("submittedAt"),
        questions=public_questions(quiz),
        answers=answers,
        result=api.QuizResult.model_validate(result) if result else None,
    )


# -- quizzes ----------------------------------------------------------------------------------


def create_quiz(
    db: Client, uid: str, body: api.NewQuiz, *, enqueue: Enqueue | None = None, now: datetime | None = None
) -> tuple[api.Quiz, bool]:
    """A quiz from a deck (ready at once) or from documents (a job: ``generating``).
    ``(quiz, created)``; a retry with the same ``id`` and body answers the same quiz."""
    now = now or fs.utcnow()
    if body.id == "stats":  # GET /quizzes/stats is the course statistics
        raise errors.Invalid("The quiz id 'stats' is reserved.", code="reserved_id")
    quiz_id = body.id or uuid.uuid4().hex[:20]
    digest = request_hash(body)
    existing = repo.read_quiz(db, uid, quiz_id)
    if existing is not None:
        quiz = replay(quiz_id, existing, digest)
        if existing.get("source") == "documents":
            from aksio.quizzes import jobs

            jobs.resume(uid, quiz_id, existing, enqueue)
        return quiz, False
    base = {
        "kinds": list(body.kinds),
        "requestedCount": body.count,
        "timeLimitSeconds": body.time_limit_seconds,
        "requestHash": digest,
        "stats": {"attempts": 0, "submitted": 0},
        "createdAt": now,
        "updatedAt": now,
    }
    if body.document_ids is not None:
        from aksio.quizzes import jobs

        return jobs.create(db, uid, quiz_id, body, base, enqueue=enqueue, now=now)
    assert body.deck_id is not None
    from aksio.study import service as study

    deck, cards = study.deck_cards(db, uid, body.deck_id, MAX_DECK_CARDS, CARD_FIELDS)
    facts = [f for cid, d in cards if (f := build.card_fact(cid, d)) is not None]
    if not facts:
        raise errors.Conflict("This deck has no cards to make questions from.", code="deck_empty")
    questions = build.questions(facts, body.count, body.kinds, seed=f"{uid}/{quiz_id}")
    if not questions:
        raise errors.Conflict(
            "This deck has too few different answers for the kinds asked for (multiple choice needs 4).",
            code="deck_too_small",
        )
    doc = base | {
        "title": body.title or str(deck.get("name") or "Quiz"),
        "source": "deck",
        "deckId": body.deck_id,
        "courseId": deck.get("courseId"),  # a deck's course (when courses hold decks): the hook for per-course stats
        "status": "ready",
        "questions": [q.to_stored() for q in questions],
    }
    made = insert_quiz(db, uid, quiz_id, doc, now=now)
    if not made:
        return replay(quiz_id, repo.read_quiz(db, uid, quiz_id) or {}, digest), False
    return quiz_view(quiz_id, doc), True


def insert_quiz(db: Client, uid: str, quiz_id: str, doc: dict[str, Any], *, now: datetime, charge: Any = None) -> bool:
    """Store a new quiz (charging ``charge``, a usage meter, in the same transaction); False
    when a quiz of that id exists already."""

    def decide(read: Read) -> Writes[bool]:
        if read.quiz is not None:
            return Writes(False)
        return Writes(True, quiz_create=doc, charge=charge)

    return repo.transact(db, uid, quiz_id, decide, now=now, what="quiz create")


def replay(quiz_id: str, data: dict[str, Any], digest: str) -> api.Quiz:
    if data.get("requestHash") != digest:
        raise errors.Conflict(f"Quiz {quiz_id} already exists with another request.", code="quiz_exists")
    return quiz_view(quiz_id, data)


def get_quiz(db: Client, uid: str, quiz_id: str) -> api.Quiz:
    return quiz_view(quiz_id, quiz_or_404(repo.read_quiz(db, uid, quiz_id), quiz_id))


def list_quizzes(db: Client, uid: str, query: api.QuizListQuery) -> api.QuizPage:
    rows, next_cursor = repo.page_quizzes(db, uid, query.cursor, query.limit, course_id=query.course_id)
    return api.QuizPage(quizzes=[quiz_view(q, d, questions=False) for q, d in rows], next_cursor=next_cursor)


def course_stats(db: Client, uid: str, course_id: str) -> api.QuizCourseStats:
    """The course's quizzes together (one read per quiz, at most a thousand); 404 for a course
    the user does not have (another user's included), as every course route answers."""
    from aksio.courses import service as courses

    courses.require_course(db, uid, course_id)
    rows = repo.course_quiz_stats(db, uid, course_id)
    taken = [r for r in rows if int(r.get("submitted") or 0) > 0 and r.get("bestPercent") is not None]
    last = [r["lastSubmittedAt"] for r in taken if r.get("lastSubmittedAt") is not None]

    def mean(key: str) -> float | None:
        values = [float(r[key]) for r in taken if r.get(key) is not None]
        return round(sum(values) / len(values), 1) if values else None

    return api.QuizCourseStats(
        course_id=course_id,
        quizzes=len(rows),
        taken=len(taken),
        attempts=sum(int(r.get("attempts") or 0) for r in rows),
        submitted=sum(int(r.get("submitted") or 0) for r in rows),
        mean_best_percent=mean("bestPercent"),
        mean_last_percent=mean("lastPercent"),
        best_percent=max((float(r["bestPercent"]) for r in taken), default=None),
        last_submitted_at=max(last, default=None),
    )


def delete_quiz(db: Client, uid: str, quiz_id: str) -> api.QuizDeleted:
    quiz_or_404(repo.read_quiz(db, uid, quiz_id), quiz_id)
    return api.QuizDeleted(id=quiz_id, deleted=True, attempts_deleted=repo.delete_quiz(db, uid, quiz_id))


# -- attempts ---------------------------------------------------------------------------------


def start_attempt(
    db: Client, uid: str, quiz_id: str, body: api.NewQuizAttempt, *, now: datetime | None = None
) -> tuple[api.QuizAttempt, bool]:
    """Start an attempt (questions and options only). ``(attempt, created)``: a retry with
    the same ``id`` answers the attempt made the first time."""
    now = now or fs.utcnow()
    attempt_id = body.id or uuid.uuid4().hex[:20]

    def decide(read: Read) -> Writes[tuple[dict[str, Any], dict[str, Any], bool]]:
        quiz = quiz_or_404(read.quiz, quiz_id)
        if quiz.get("status") != "ready":
            raise errors.Conflict("This quiz is not ready yet.", code="quiz_not_ready")
        if read.attempt is not None:
            return Writes((quiz, read.attempt, False))
        attempt = {
            "status": m.OPEN,
            "startedAt": now,
            "expiresAt": m.expires_at(now, quiz.get("timeLimitSeconds")),
            "answers": {},
            "answerWrites": 0,
            "updatedAt": now,
        }
        attempts = int((quiz.get("stats") or {}).get("attempts") or 0) + 1
        return Writes(
            (quiz, attempt, True),
            attempt_create=attempt,
            quiz_update={"stats.attempts": attempts, "updatedAt": now},
        )

    quiz, attempt, created = repo.transact(
        db, uid, quiz_id, decide, attempt_id=attempt_id, now=now, what="attempt start"
    )
    return attempt_view(quiz_id, attempt_id, quiz, attempt, now), created


def get_attempt(db: Client, uid: str, quiz_id: str, attempt_id: str, *, now: datetime | None = None) -> api.QuizAttempt:
    quiz = quiz_or_404(repo.read_quiz(db, uid, quiz_id), quiz_id)
    attempt = attempt_or_404(repo.read_attempt(db, uid, quiz_id, attempt_id), attempt_id)
    return attempt_view(quiz_id, attempt_id, quiz, attempt, now or fs.utcnow())


def list_attempts(db: Client, uid: str, quiz_id: str, query: api.QuizPageQuery) -> api.QuizAttemptPage:
    """The quiz's attempts, newest first, with its best and last score."""
    quiz = quiz_or_404(repo.read_quiz(db, uid, quiz_id), quiz_id)
    rows, next_cursor = repo.page_attempts(db, uid, quiz_id, query.cursor, query.limit)
    now = fs.utcnow()
    out = []
    for aid, data in rows:
        result = data.get("result") or {}
        out.append(
            api.QuizAttemptSummary(
                id=aid,
                status=m.state_of(data, now),
                started_at=data.get("startedAt"),
                submitted_at=data.get("submittedAt"),
                score=result.get("score"),
                total=result.get("total"),
                percent=result.get("percent"),
            )
        )
    stats = quiz.get("stats") or {}
    return api.QuizAttemptPage(
        attempts=out,
        best_percent=stats.get("bestPercent"),
        last_percent=stats.get("lastPercent"),
        next_cursor=next_cursor,
    )


def answer(  # noqa: PLR0917 - the path's ids in order
    db: Client,
    uid: str,
    quiz_id: str,
    attempt_id: str,
    question_id: str,
    body: api.QuizAnswerBody,
    *,
    now: datetime | None = None,
) -> api.QuizAnswerRecorded:
    """Record (or change) the answer to one question: idempotent, so the same answer sent
    again, or several times at once, is recorded once."""
    now = now or fs.utcnow()

    def decide(read: Read) -> Writes[api.QuizAnswerRecorded]:
        quiz = quiz_or_404(read.quiz, quiz_id)
        attempt = attempt_or_404(read.attempt, attempt_id)  # 404 before any 400 about the answer
        question = m.question_by_id(m.questions_of(quiz), question_id)
        value = m.answer_value(question, body.option_id, body.text)
        change = m.record_answer(attempt, question.id, value, now)
        current = (attempt.get("answers") or {}).get(question.id) or {}
        revision = int(current.get("revision") or 0) + (1 if change.recorded else 0)
        recorded = api.QuizAnswerRecorded(
            attempt_id=attempt_id,
            question_id=question.id,
            given=api.QuizAnswer(option_id=value.get("optionId"), text=value.get("text")),
            revision=revision,
            changed=change.recorded,
        )
        return Writes(recorded, attempt_update=change.changes or None)

    return repo.transact(db, uid, quiz_id, decide, attempt_id=attempt_id, now=now, what="quiz answer")


def submit(
    db: Client,
    uid: str,
    quiz_id: str,
    attempt_id: str,
    *,
    now: datetime | None = None,
    verdicts: dict[str, bool] | None = None,
    spent: Usage | None = None,
) -> tuple[api.QuizAttempt, bool]:
    """Grade the attempt once and update the quiz's history, in one transaction. A second
    submit (or one racing it) answers the stored result: ``(attempt, graded now)``."""
    now = now or fs.utcnow()
    questions_quiz = quiz_or_404(repo.read_quiz(db, uid, quiz_id), quiz_id)
    questions = m.questions_of(questions_quiz)

    def decide(read: Read) -> Writes[tuple[dict[str, Any], dict[str, Any], bool]]:
        quiz = quiz_or_404(read.quiz, quiz_id)
        attempt = attempt_or_404(read.attempt, attempt_id)
        if attempt.get("status") == m.SUBMITTED:
            return Writes((quiz, attempt, False))
        result = m.grade(questions, attempt.get("answers") or {}, verdicts)
        changes = {"status": m.SUBMITTED, "submittedAt": now, "result": result, "updatedAt": now}
        stats = m.stats_after(quiz.get("stats"), result["percent"], now)
        tokens = (spent.prompt_tokens, spent.completion_tokens, spent.calls) if spent else None
        return Writes(
            (quiz, attempt | changes, True),
            attempt_update=changes,
            quiz_update={"stats": stats, "updatedAt": now},
            tokens=tokens,
        )

    quiz, attempt, graded = repo.transact(db, uid, quiz_id, decide, attempt_id=attempt_id, now=now, what="quiz submit")
    return attempt_view(quiz_id, attempt_id, quiz, attempt, now), graded
