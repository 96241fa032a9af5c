"""Quizzes from documents: a job kept on the quiz itself (status ``generating`` → ``ready`` |
``failed``, steps done/total, tokens), one step per Cloud Task, idempotent.

Creating charges the plan's monthly AI quizzes (:data:`QUIZ_GENERATIONS`, limited like
flashcard generations) in the transaction that stores the quiz, then enqueues step 0 (on
``run-generation``, as a ``quiz`` step). A step: read the quiz; a recorded step is a
duplicate delivery (only the next step is enqueued again); else ask the provider for the
step's share of questions from the step's passages (the offline provider also reads the
rest of the documents for distractors), validate them, and commit questions, progress,
step record and tokens in one transaction that re-checks the step record. A failed job
that made no question gives its charge back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aksio import errors, log, usage
from aksio import firestore as fs
from aksio.ai import bounds
from aksio.ai.base import Passage, PermanentProviderError, Provider, ProviderError, TransientProviderError, Usage
from aksio.quizzes import api, grading
from aksio.quizzes import model as m
from aksio.quizzes import repository as repo
from aksio.quizzes.repository import Read, Writes

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

_log = log.get_logger("aksio.quizzes")
Enqueue = Callable[[str, str, int], bool]
QUIZ_GENERATIONS = usage.Meter("quizGenerations", "month", "generations_per_month", "AI quiz generations")
QUESTIONS_PER_STEP = 5
MAX_FOCUS = 6  # passages one step asks the model about
MAX_CONTEXT = 400  # passages the offline provider draws distractors from
MAX_UNITS = 3000
LAST_STEP_EXTRA = 3


def default_enqueue(uid: str, quiz_id: str, step: int) -> bool:
    from aksio import tasks

    return tasks.enqueue_step(uid, quiz_id, step, kind="quiz")


def steps_for(count: int) -> int:
    return max(1, math.ceil(count / QUESTIONS_PER_STEP))


def questions_for_step(count: int, steps: int, step: int, made: int) -> int:
    left = max(count - made, 0)
    return math.ceil(left / max(steps - step, 1)) if left else 0


def focus_units(units: Sequence[Any], step: int, steps: int, cap: int = MAX_FOCUS) -> list[Any]:
    """The step's passages: every ``steps``-th unit from ``step`` (so the steps cover the
    whole material), at most ``cap`` of them, evenly spaced."""
    mine = list(units[step::steps])
    if len(mine) <= cap:
        return mine
    return [mine[round(i * (len(mine) - 1) / (cap - 1))] for i in range(cap)] if cap > 1 else mine[:1]


def create(
    db: Client,
    uid: str,
    quiz_id: str,
    body: api.NewQuiz,
    base: dict[str, Any],
    *,
    enqueue: Enqueue | None,
    now: datetime,
) -> tuple[api.Quiz, bool]:
    from aksio.documents import service as documents
    from aksio.quizzes import service

    enqueue = enqueue or default_enqueue
    try:
        refs, titles = documents.ready_units(db, uid, body.document_ids or [])
    except errors.Conflict as exc:  # not ready, or ready with no text: nothing to ask about yet
        raise errors.Conflict(exc.message, code="document_not_ready") from None
    if len(refs) > MAX_UNITS:
        raise errors.Invalid(
            f"Too much material for one quiz ({len(refs)} chunks; at most {MAX_UNITS}).", code="too_large"
        )
    courses = {d.course_id for d in documents.require(db, uid, body.document_ids or []).values()}
    doc = base | {
        "title": body.title or ", ".join(titles[d] for d in titles)[:200] or "Quiz",
        "source": "documents",
        # the documents' course, when they all belong to the same one (per-course quiz stats)
        "courseId": courses.pop() if len(courses) == 1 else None,
        "documentIds": list(body.document_ids or []),
        "titles": titles,
        "units": [{"d": r.document_id, "h": r.holder, "i": r.index} for r in refs],
        "status": "generating",
        "stepsTotal": steps_for(body.count),
        "stepsDone": 0,
        "questions": [],
        "tokens": {"promptTokens": 0, "completionTokens": 0, "totalTokens": 0, "calls": 0},
        "chargedAt": now,
    }
    if not service.insert_quiz(db, uid, quiz_id, doc, now=now, charge=QUIZ_GENERATIONS):
        existing = repo.read_quiz(db, uid, quiz_id) or {}
        return service.replay(quiz_id, existing, str(base.get("requestHash"))), False
    try:
        enqueue(uid, quiz_id, 0)
    except Exception as exc:
        _log.exception("could not enqueue the first quiz step", extra={"quizId": quiz_id})
        raise errors.Unavailable(
            f"Quiz {quiz_id} was saved but could not be started; send the same request again with id {quiz_id}.",
            code="enqueue_failed",
            details={"quizId": quiz_id},
        ) from exc
    return service.quiz_view(quiz_id, doc), True


def resume(uid: str, quiz_id: str, data: dict[str, Any], enqueue: Enqueue | None = None) -> None:
    """A retried create of a quiz still waiting for its first step enqueues it again (the
    task name makes this safe)."""
    if data.get("status") == "generating" and not data.get("stepsDone"):
        (enqueue or default_enqueue)(uid, quiz_id, 0)


def _passages(db: Client, uid: str, units: Sequence[dict[str, Any]], titles: dict[str, str]) -> list[Passage]:
    from aksio.documents import service as documents
    from aksio.documents.model import ChunkRef

    refs = [ChunkRef(str(u["d"]), str(u["h"]), int(u["i"])) for u in units]
    found = documents.passages(db, uid, refs, titles) if refs else {}
    return [found[r] for r in refs if r in found]


def run_step(  # noqa: PLR0911 - one return per outcome
    db: Client,
    uid: str,
    quiz_id: str,
    step: int,
    *,
    provider: Provider | None = None,
    attempt: int = 0,
    enqueue: Enqueue | None = None,
) -> str:
    """One step of a generated quiz: ``done``, ``duplicate``, ``finished``, ``failed`` or
    ``no_quiz``. Raises :class:`aksio.generation.steps.StepRetry` for a transient failure."""
    from aksio.generation.steps import StepRetry

    enqueue = enqueue or default_enqueue
    data = repo.read_quiz(db, uid, quiz_id)
    if data is None:
        return "no_quiz"
    total = int(data.get("stepsTotal") or 0)
    if data.get("status") != "generating" or not 0 <= step < total:
        return "finished"
    if repo.read_step(db, uid, quiz_id, step) is not None:
        _next(enqueue, uid, quiz_id, step, total)
        return "duplicate"
    if int(data.get("stepsDone") or 0) < step:
        raise StepRetry("step_out_of_order", f"step {step} arrived before step {data.get('stepsDone')}")
    units, titles = list(data.get("units") or []), dict(data.get("titles") or {})
    passages = _passages(db, uid, focus_units(units, step, total), titles)
    existing = m.questions_of(data)
    want = questions_for_step(int(data.get("requestedCount") or 0), total, step, len(existing))
    if want and step + 1 == total:
        want += LAST_STEP_EXTRA  # the last step makes up for earlier shortfalls; the commit keeps the count
    try:
        provider = provider or _provider()
        made, spent, rejected = _generate(db, uid, provider, data, step, passages, want, existing)
    except TransientProviderError as exc:
        return _retry_or_fail(db, uid, quiz_id, attempt, code=exc.code, message=exc.message)
    except errors.Unavailable as exc:  # no model configured: like a model that is down
        return _retry_or_fail(db, uid, quiz_id, attempt, code=exc.code, message=exc.message)
    except PermanentProviderError as exc:
        fail(db, uid, quiz_id, exc.code, exc.message)
        return "failed"
    except errors.QuotaExceeded as exc:  # the month's AI budget cannot hold this step
        fail(db, uid, quiz_id, exc.code, exc.message)
        refund_if_empty(db, uid, quiz_id)
        return "failed"
    try:
        outcome = commit_step(db, uid, quiz_id, step, made, spent, rejected, getattr(provider, "name", None))
    except errors.Contention as exc:
        raise StepRetry("contention", exc.message) from exc
    if outcome in ("done", "duplicate"):
        _next(enqueue, uid, quiz_id, step, total)
    if outcome == "failed":
        refund_if_empty(db, uid, quiz_id)
    return outcome


def _provider() -> Provider:
    from aksio.ai import get_provider

    return get_provider()


def _generate(  # noqa: PLR0917 - the step's inputs
    db: Client,
    uid: str,
    provider: Provider,
    data: dict[str, Any],
    step: int,
    passages: list[Passage],
    want: int,
    existing: list[m.Question],
) -> tuple[list[m.Question], Usage, list[str]]:
    if not want or not passages:
        return [], Usage(), []
    kinds = list(data.get("kinds") or m.KINDS)
    avoid = [q.fact[0] if q.fact else q.prompt for q in existing]
    if getattr(provider, "name", "") == "offline":
        from aksio.quizzes import offline

        units = list(data.get("units") or [])
        context = _passages(db, uid, focus_units(units, 0, 1, MAX_CONTEXT), dict(data.get("titles") or {}))
        made, spent = offline.make_questions(passages, want, kinds, seed=f"{uid}/{step}", context=context, avoid=avoid)
        return made, spent, []
    from aksio.ai import require_enabled
    from aksio.quizzes import openai_quiz

    require_enabled("quiz")  # switched off while the job waited: the step is retried, then fails
    # the most it can cost is reserved first (aksio.usage), what it cost settled after
    tokens, calls = openai_quiz.generate_bound(provider, passages, want, kinds, avoid)
    held = usage.reserve(db, uid, usage.AI_TOKENS, tokens, calls=calls)
    try:
        made, spent, rejected = openai_quiz.generate(provider, passages, want, kinds, avoid)
    except ProviderError as exc:
        if exc.code in bounds.NOT_BILLED:
            usage.release(db, held)  # refused before any work: nothing was billed
        raise  # else what was reserved stays counted
    usage.settle_spent(db, held, spent)
    return made, spent, rejected


def _retry_or_fail(db: Client, uid: str, quiz_id: str, attempt: int, *, code: str, message: str) -> str:
    from aksio.generation.steps import StepRetry, max_attempts

    if attempt + 1 >= max_attempts():
        fail(db, uid, quiz_id, code, f"{message} (gave up after {attempt + 1} attempts)")
        return "failed"
    repo.update_quiz(db, uid, quiz_id, {"lastError": {"code": code, "message": message, "attempt": attempt}})
    raise StepRetry(code, message)


def commit_step(  # noqa: PLR0917 - a step's outcome
    db: Client,
    uid: str,
    quiz_id: str,
    step: int,
    made: list[m.Question],
    spent: Usage,
    rejected: list[str],
    provider: str | None,
    *,
    now: datetime | None = None,
) -> str:
    """Questions, progress, step record and tokens in one transaction (once per step)."""
    when = now or fs.utcnow()

    def decide(read: Read) -> Writes[str]:
        quiz = read.quiz
        if read.step_recorded:
            return Writes("duplicate")
        if quiz is None or quiz.get("status") != "generating":
            return Writes("finished")
        existing = m.questions_of(quiz)
        room = max(0, int(quiz.get("requestedCount") or 0) - len(existing))
        seen = {grading.normalise(q.prompt) for q in existing}
        fresh: list[m.Question] = []
        for q in made:
            key = grading.normalise(q.prompt)
            if key in seen or len(fresh) >= room or m.question_problem(q):
                continue
            seen.add(key)
            fresh.append(renumbered(q, len(existing) + len(fresh) + 1))
        total = int(quiz.get("stepsTotal") or 0)
        last = step + 1 >= total
        questions = [*existing, *fresh]
        tokens = dict(quiz.get("tokens") or {})
        changes: dict[str, Any] = {
            "questions": [q.to_stored() for q in questions],
            "stepsDone": step + 1,
            "tokens": {
                "promptTokens": int(tokens.get("promptTokens") or 0) + spent.prompt_tokens,
                "completionTokens": int(tokens.get("completionTokens") or 0) + spent.completion_tokens,
                "totalTokens": int(tokens.get("totalTokens") or 0) + spent.total_tokens,
                "calls": int(tokens.get("calls") or 0) + spent.calls,
            },
            "provider": provider,
            "lastError": fs.DELETE,
            "updatedAt": when,
        }
        outcome = "done"
        if last:
            changes["finishedAt"] = when
            if questions:
                changes["status"] = "ready"
            else:
                changes |= failed_changes("no_questions", "No question could be made from these documents.", when)
                outcome = "failed"
        record = {
            "questions": [q.id for q in fresh],
            "rejected": rejected[:20],
            "usage": spent.to_stored(),
            "createdAt": when,
        }
        return Writes(
            outcome,
            quiz_update=changes,
            step_create=record,
            tokens=(spent.prompt_tokens, spent.completion_tokens, spent.calls),
        )

    return repo.transact(db, uid, quiz_id, decide, step=step, now=when, what="quiz step")


def renumbered(q: m.Question, n: int) -> m.Question:
    from dataclasses import replace

    return replace(q, id=f"q{n:02d}")


def failed_changes(code: str, message: str, now: datetime) -> dict[str, Any]:
    return {"status": "failed", "error": {"code": code, "message": message}, "finishedAt": now, "updatedAt": now}


def _next(enqueue: Enqueue, uid: str, quiz_id: str, step: int, total: int) -> None:
    if step + 1 < total:
        enqueue(uid, quiz_id, step + 1)


def fail(db: Client, uid: str, quiz_id: str, code: str, message: str) -> None:
    """End the job as failed with a reason (unless it ended already); refund when empty."""
    now = fs.utcnow()

    def decide(read: Read) -> Writes[bool]:
        if read.quiz is None or read.quiz.get("status") != "generating":
            return Writes(False)
        return Writes(True, quiz_update=failed_changes(code, message, now))

    if repo.transact(db, uid, quiz_id, decide, now=now, what="quiz fail"):
        _log.warning("quiz generation failed: %s", code, extra={"quizId": quiz_id})
        refund_if_empty(db, uid, quiz_id)


def refund_if_empty(db: Client, uid: str, quiz_id: str) -> None:
    now = fs.utcnow()

    def decide(read: Read) -> Writes[datetime | None]:
        quiz = read.quiz or {}
        if quiz.get("status") != "failed" or quiz.get("questions") or quiz.get("refunded"):
            return Writes(None)
        charged = quiz.get("chargedAt")
        return Writes(charged if isinstance(charged, datetime) else None, quiz_update={"refunded": True})

    charged = repo.transact(db, uid, quiz_id, decide, now=now, what="quiz refund")
    if charged is not None:
        usage.refund(db, uid, QUIZ_GENERATIONS, charged)
