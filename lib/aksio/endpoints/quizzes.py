"""quizzes: practice tests from a deck (at once) or from documents (a job run by Cloud
Tasks), attempts graded on the server (the answer key never leaves it before submission),
history, and misses turned into cards."""

from __future__ import annotations

from aksio.clients import firestore_client
from aksio.http import Api, Ctx, Result
from aksio.ids import path_id
from aksio.openapi import Link
from aksio.quizzes import api as models
from aksio.quizzes import results, service

api = Api("quizzes", summary="Quizzes: made from decks or documents, taken, graded, misses → cards")

QUIZ = {"quiz": "$response.body#/id"}
ATTEMPT = {"quiz": "$response.body#/quizId", "attempt": "$response.body#/id"}
CREATED = (
    Link("read", "quizzes.read", QUIZ),
    Link("start", "quizzes.start", QUIZ),
    Link("attempts", "quizzes.attempts", QUIZ),
    Link("delete", "quizzes.delete", QUIZ),
)
STARTED = (
    Link("readAttempt", "quizzes.read_attempt", ATTEMPT),
    Link("submit", "quizzes.submit", ATTEMPT),
)


def _quiz(ctx: Ctx) -> str:
    return path_id(ctx.params["quiz"], "quiz")


def _attempt(ctx: Ctx) -> str:
    return path_id(ctx.params["attempt"], "attempt")


@api.post(
    "/",
    body=models.NewQuiz,
    response=models.Quiz,
    status=201,
    replay_status=200,
    errors=(400, 403, 404, 409, 413, 415, 429, 503),
    links=CREATED,
)
def create(ctx: Ctx) -> Result:
    """Make a quiz of ``count`` (1-50) questions of ``kinds``: from ``deckId`` at once (201,
    ``ready``), or from ``documentIds`` through the AI (202, ``generating``; follow it with
    GET). A retry with the same ``id`` answers 200 with that quiz. Over the plan's monthly
    AI quizzes: 429; a document that is not ready: 409 ``document_not_ready``; AI turned off
    by the operator: 503 ``ai_disabled``; an unverified email (where required): 403."""
    if ctx.body.document_ids is not None and ctx.caller is not None:  # (the route is signed in)
        from aksio.guards import check_ai_use

        check_ai_use(ctx.caller)
    quiz, created = service.create_quiz(firestore_client(), ctx.uid, ctx.body)
    status = (202 if quiz.status == "generating" else 201) if created else 200
    return Result(quiz, status=status, headers={"Location": f"/quizzes/{quiz.id}"})


@api.get("/", query=models.QuizListQuery, response=models.QuizPage, errors=(400,))
def list_(ctx: Ctx) -> models.QuizPage:
    """The quizzes, newest first (without their questions), or those of ``courseId``."""
    return service.list_quizzes(firestore_client(), ctx.uid, ctx.query)


@api.get("/stats", query=models.QuizCourseStatsQuery, response=models.QuizCourseStats, errors=(400, 404))
def course_stats(ctx: Ctx) -> models.QuizCourseStats:
    """A course's quizzes together: how many, attempts, mean best and last score (a course
    without quizzes: zeros; a course the user does not have: 404)."""
    return service.course_stats(firestore_client(), ctx.uid, ctx.query.course_id)


@api.get("/<quiz>", response=models.Quiz, errors=(404,))
def read(ctx: Ctx) -> models.Quiz:
    """A quiz: status, progress, questions (never their answers), best and last score."""
    return service.get_quiz(firestore_client(), ctx.uid, _quiz(ctx))


@api.delete("/<quiz>", response=models.QuizDeleted, errors=(404,))
def delete(ctx: Ctx) -> models.QuizDeleted:
    """Delete a quiz and its attempts."""
    return service.delete_quiz(firestore_client(), ctx.uid, _quiz(ctx))


@api.post(
    "/<quiz>/attempts",
    body=models.NewQuizAttempt,
    response=models.QuizAttempt,
    status=201,
    replay_status=200,
    errors=(400, 404, 409, 413, 415),
    links=STARTED,
)
def start(ctx: Ctx) -> Result:
    """Start an attempt: the questions and their options, no answers. With the quiz's time
    limit, answers are accepted until ``expiresAt``. A retry with the same ``id`` answers 200."""
    attempt, created = service.start_attempt(firestore_client(), ctx.uid, _quiz(ctx), ctx.body)
    return Result(attempt, status=201 if created else 200)


@api.get("/<quiz>/attempts", query=models.QuizPageQuery, response=models.QuizAttemptPage, errors=(400, 404))
def attempts(ctx: Ctx) -> models.QuizAttemptPage:
    """The quiz's attempts, newest first, with the best and the last score."""
    return service.list_attempts(firestore_client(), ctx.uid, _quiz(ctx), ctx.query)


@api.get("/<quiz>/attempts/<attempt>", response=models.QuizAttempt, errors=(404,))
def read_attempt(ctx: Ctx) -> models.QuizAttempt:
    """An attempt: its questions and answers; its result once submitted."""
    return service.get_attempt(firestore_client(), ctx.uid, _quiz(ctx), _attempt(ctx))


@api.put(
    "/<quiz>/attempts/<attempt>/answers/<question>",
    body=models.QuizAnswerBody,
    response=models.QuizAnswerRecorded,
    errors=(400, 404, 409, 413, 415),
)
def answer(ctx: Ctx) -> models.QuizAnswerRecorded:
    """Answer one question (``optionId``, or ``text`` for a short answer); sending it again
    changes nothing, another answer replaces it. 409 once submitted or past the time limit."""
    return service.answer(
        firestore_client(), ctx.uid, _quiz(ctx), _attempt(ctx), str(ctx.params["question"])[:64], ctx.body
    )


@api.post("/<quiz>/attempts/<attempt>/submit", response=models.QuizAttempt, errors=(404, 503))
def submit(ctx: Ctx) -> models.QuizAttempt:
    """Submit and grade (once: a second submit answers the same result): score, and per
    question its correctness, the right answer, an explanation and the citation."""
    return results.submit_graded(firestore_client(), ctx.uid, _quiz(ctx), _attempt(ctx))


@api.post(
    "/<quiz>/attempts/<attempt>/misses-to-cards",
    body=models.QuizMissesToCards,
    response=models.QuizMissesAdded,
    errors=(400, 404, 409, 413, 415),
)
def misses_to_cards(ctx: Ctx) -> models.QuizMissesAdded:
    """The submitted attempt's missed questions as cards in ``deckId`` (deduplicated against
    the deck, citing the same source)."""
    return results.misses_to_cards(firestore_client(), ctx.uid, _quiz(ctx), _attempt(ctx), ctx.body)
