"""After an attempt: submitting with short answers judged by the model's rubric (when one is
configured; a failed grading keeps the attempt open, to be submitted again), and the
misses of a submitted attempt turned into cards through the study service."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from aksio import errors
from aksio.quizzes import api
from aksio.quizzes import model as m
from aksio.quizzes import repository as repo
from aksio.quizzes.service import QUIZ_TAG, attempt_or_404, quiz_or_404, submit

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

    from aksio.ai.base import Provider, Usage


def submit_graded(
    db: Client, uid: str, quiz_id: str, attempt_id: str, *, provider: Provider | None = None
) -> api.QuizAttempt:
    """Submit. Short answers the normalised match does not accept are judged by the model's
    rubric when a model is configured (offline, the match decides). When grading fails the
    attempt stays open with all its answers: 503 ``grading_unavailable``, submit again."""
    quiz = quiz_or_404(repo.read_quiz(db, uid, quiz_id), quiz_id)
    attempt = attempt_or_404(repo.read_attempt(db, uid, quiz_id, attempt_id), attempt_id)
    verdicts, spent = None, None
    if attempt.get("status") != m.SUBMITTED:
        answers = attempt.get("answers") or {}
        pending = [
            (q.id, q.prompt, q.answer, str(answers[q.id].get("text") or ""))
            for q in m.questions_of(quiz)
            if q.kind == m.SHORT_ANSWER and answers.get(q.id) and not m.is_right(q, answers[q.id])
        ]
        if pending:
            verdicts, spent = rubric_verdicts(pending, provider, db=db, uid=uid)
    graded, _ = submit(db, uid, quiz_id, attempt_id, verdicts=verdicts, spent=spent)
    return graded


GRADING_TRIES = 2


def rubric_verdicts(
    pending: list[tuple[str, str, str, str]], provider: Provider | None, *, db: Client, uid: str
) -> tuple[dict[str, bool] | None, Usage | None]:
    """The model's verdicts on ``pending`` short answers (None offline). Each try reserves
    what it can cost from the user's AI budget first (429 when it does not fit: the attempt
    stays open with its answers)."""
    from aksio.ai.base import ProviderError

    if provider is None:
        from aksio.ai import get_provider

        try:
            provider = get_provider()
        except errors.Unavailable:
            return None, None  # no model: the normalised match decides
    if getattr(provider, "name", "") != "openai":
        return None, None
    from aksio import usage
    from aksio.ai import bounds
    from aksio.quizzes import openai_quiz

    problem = None
    for _ in range(GRADING_TRIES):
        tokens, calls = openai_quiz.grade_bound(provider, pending)
        held = usage.reserve(db, uid, usage.AI_TOKENS, tokens, calls=calls)
        try:
            verdicts, spent = openai_quiz.grade(provider, pending)
        except ProviderError as exc:
            if exc.code in bounds.NOT_BILLED:
                usage.release(db, held)
            problem = exc
            if not exc.transient:
                break
            continue
        usage.settle_spent(db, held, spent)
        return verdicts, spent
    raise errors.Unavailable(
        "Your answers are saved, but grading failed for now; submit again in a moment.",
        code="grading_unavailable",
        retry_after=10,
    ) from problem


def misses_to_cards(
    db: Client, uid: str, quiz_id: str, attempt_id: str, body: api.QuizMissesToCards
) -> api.QuizMissesAdded:
    """The submitted attempt's missed questions as basic cards in ``deckId`` (citing the
    question's source), deduplicated against the deck; safe to repeat."""
    from aksio.ai.text import normalize
    from aksio.study import service as study
    from aksio.study.model import Content

    quiz = quiz_or_404(repo.read_quiz(db, uid, quiz_id), quiz_id)
    attempt = attempt_or_404(repo.read_attempt(db, uid, quiz_id, attempt_id), attempt_id)
    if attempt.get("status") != m.SUBMITTED:
        raise errors.Conflict("Submit the attempt first; its misses are known then.", code="attempt_not_submitted")
    missed = {r["questionId"] for r in (attempt.get("result") or {}).get("questions") or [] if not r.get("correct")}
    items = []
    for q in m.questions_of(quiz):
        if q.id not in missed:
            continue
        front, back = q.fact or (q.prompt, q.right_text)
        source = {k: v for k, v in (q.source or {}).items() if k != "cardId"}
        source |= {"kind": "document" if source.get("documentId") else "quiz", "quizId": quiz_id}
        source["key"] = hashlib.sha256(normalize(front).encode()).hexdigest()[:32]
        if q.explanation and "quote" not in source:
            source["quote"] = q.explanation[:500]
        items.append((Content(front=front, back=back), source))
    made, present = study.add_cards(db, uid, body.deck_id, items, tags=[QUIZ_TAG])
    return api.QuizMissesAdded(
        deck_id=body.deck_id, misses=len(items), created=len(made), already_present=present, card_ids=made
    )
