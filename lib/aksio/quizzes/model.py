"""Quizzes and attempts as stored, and the rules of taking them: pure, no I/O.

``users/{uid}/quizzes/{quizId}`` holds the quiz: its questions *with* their key (the right
option, the accepted short answers, the explanation, the citation), which only the server
reads. What a student sees before submitting is :meth:`Question.public`: id, kind, prompt,
options. ``quizzes/{quizId}/attempts/{attemptId}`` holds an attempt: its answers (one per
question, changeable until submitted), its deadline when the quiz has a time limit, and,
once submitted, its result (graded once: a second submit answers the stored result).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aksio import errors
from aksio.quizzes import grading

MULTIPLE_CHOICE, TRUE_FALSE, SHORT_ANSWER = "multiple_choice", "true_false", "short_answer"
KINDS = (MULTIPLE_CHOICE, TRUE_FALSE, SHORT_ANSWER)
MAX_QUESTIONS = 50
OPTION_IDS = ("a", "b", "c", "d")
TRUE_FALSE_OPTIONS = (("true", "True"), ("false", "False"))
MAX_ANSWER_CHARS = 1000
OPEN, EXPIRED, SUBMITTED = "open", "expired", "submitted"


@dataclass(frozen=True)
class Question:
    """One question with its key. ``answer`` is the right option's id (multiple choice,
    true/false) or the answer's text (short answer, graded against ``accepted``)."""

    id: str
    kind: str
    prompt: str
    answer: str
    options: tuple[tuple[str, str], ...] = ()
    accepted: tuple[str, ...] = ()
    explanation: str = ""
    source: dict[str, Any] | None = None
    fact: tuple[str, str] | None = None  # the prompt and answer it was made from (misses → cards)

    @property
    def right_text(self) -> str:
        if self.kind == SHORT_ANSWER:
            return self.answer
        return next((text for oid, text in self.options if oid == self.answer), self.answer)

    def public(self) -> dict[str, Any]:
        """What the student sees before submitting: never the key."""
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "prompt": self.prompt}
        if self.kind != SHORT_ANSWER:
            out["options"] = [{"id": oid, "text": text} for oid, text in self.options]
        return out

    def to_stored(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "prompt": self.prompt,
            "answer": self.answer,
            "options": [{"id": oid, "text": text} for oid, text in self.options],
            "accepted": list(self.accepted),
            "explanation": self.explanation,
            "source": self.source,
            "fact": list(self.fact) if self.fact else None,
        }

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Question:
        return cls(
            id=str(data.get("id", "")),
            kind=str(data.get("kind", SHORT_ANSWER)),
            prompt=str(data.get("prompt", "")),
            answer=str(data.get("answer", "")),
            options=tuple((str(o.get("id")), str(o.get("text"))) for o in data.get("options") or []),
            accepted=tuple(str(a) for a in data.get("accepted") or []),
            explanation=str(data.get("explanation") or ""),
            source=data.get("source"),
            fact=(str(fact[0]), str(fact[1]))
            if isinstance(fact := data.get("fact"), list) and len(fact) == 2
            else None,
        )


def question_problem(q: Question) -> str | None:  # noqa: PLR0911 - one return per rule
    """Why a question breaks the rules (None when it is fine): multiple choice has 4 options
    of distinct text and exactly one right; true/false has True and False; a short answer
    has an answer."""
    if not q.prompt.strip():
        return "question without a prompt"
    if q.kind == MULTIPLE_CHOICE:
        ids = [oid for oid, _ in q.options]
        texts = {grading.normalise(t) for _, t in q.options}
        if len(q.options) != len(OPTION_IDS) or len(texts) != len(OPTION_IDS) or "" in texts:
            return "multiple choice without 4 distinct options"
        if ids.count(q.answer) != 1:
            return "multiple choice without exactly one right option"
        return None
    if q.kind == TRUE_FALSE:
        return None if q.options == TRUE_FALSE_OPTIONS and q.answer in ("true", "false") else "bad true/false"
    if q.kind == SHORT_ANSWER:
        return None if q.answer.strip() and q.accepted else "short answer without an answer"
    return f"unknown kind {q.kind}"


def questions_of(data: dict[str, Any]) -> list[Question]:
    return [Question.from_stored(q) for q in data.get("questions") or []]


# -- attempts ---------------------------------------------------------------------------------


def expires_at(started: datetime, time_limit_seconds: int | None) -> datetime | None:
    return started + timedelta(seconds=time_limit_seconds) if time_limit_seconds else None


def state_of(attempt: dict[str, Any], now: datetime) -> str:
    if attempt.get("status") == SUBMITTED:
        return SUBMITTED
    deadline = attempt.get("expiresAt")
    if isinstance(deadline, datetime) and now >= deadline:
        return EXPIRED
    return OPEN


def answer_value(q: Question, option_id: str | None, text: str | None) -> dict[str, Any]:
    """The stored form of an answer to ``q``; 400 for an answer of the wrong form or an
    option the question does not have."""
    if q.kind == SHORT_ANSWER:
        if text is None or option_id is not None:
            raise errors.Invalid(f"Question {q.id} is answered with text.", code="invalid_answer")
        return {"text": text.strip()[:MAX_ANSWER_CHARS]}
    if option_id is None or text is not None:
        raise errors.Invalid(f"Question {q.id} is answered with an optionId.", code="invalid_answer")
    if option_id not in {oid for oid, _ in q.options}:
        raise errors.Invalid(f"Question {q.id} has no option {option_id!r}.", code="unknown_option")
    return {"optionId": option_id}


def question_by_id(questions: list[Question], question_id: str) -> Question:
    for q in questions:
        if q.id == question_id:
            return q
    raise errors.Invalid(f"This quiz has no question {question_id[:64]!r}.", code="unknown_question")


@dataclass(frozen=True)
class AnswerChange:
    """What recording an answer changes: nothing when the same answer is already recorded."""

    changes: dict[str, Any] = field(default_factory=dict)

    @property
    def recorded(self) -> bool:
        return bool(self.changes)


def record_answer(attempt: dict[str, Any], question_id: str, value: dict[str, Any], now: datetime) -> AnswerChange:
    """The changes that record ``value`` as the answer to ``question_id``: 409 once the
    attempt is submitted or past its time limit; none when the same answer is recorded
    already (a retry, or the same answer sent several times at once)."""
    state = state_of(attempt, now)
    if state == SUBMITTED:
        raise errors.Conflict("This attempt is submitted; its answers can no longer change.", code="attempt_submitted")
    if state == EXPIRED:
        raise errors.Conflict("The time limit of this attempt has passed.", code="time_limit_passed")
    answers = attempt.get("answers") or {}
    current = answers.get(question_id) or {}
    if {k: current.get(k) for k in value} == value and set(current) - {"at", "revision"} == set(value):
        return AnswerChange()
    stored = value | {"at": now, "revision": int(current.get("revision") or 0) + 1}
    return AnswerChange(
        {f"answers.{question_id}": stored, "answerWrites": int(attempt.get("answerWrites") or 0) + 1, "updatedAt": now}
    )


def is_right(q: Question, given: dict[str, Any] | None) -> bool:
    if not given:
        return False
    if q.kind == SHORT_ANSWER:
        return grading.short_answer_right(str(given.get("text") or ""), q.accepted or grading.variants(q.answer))
    return given.get("optionId") == q.answer


def grade(
    questions: list[Question], answers: dict[str, Any], verdicts: dict[str, bool] | None = None
) -> dict[str, Any]:
    """The result of an attempt: score, and per question its correctness, the right answer,
    the explanation and the citation. ``verdicts`` overrides the offline match of short
    answers (a model's validated rubric verdicts)."""
    verdicts = verdicts or {}
    rows = []
    for q in questions:
        given = answers.get(q.id)
        right = verdicts[q.id] if q.id in verdicts else is_right(q, given)
        row: dict[str, Any] = {
            "questionId": q.id,
            "kind": q.kind,
            "prompt": q.prompt,
            "correct": right,
            "rightAnswer": q.right_text,
            "explanation": q.explanation,
            "citation": q.source,
        }
        if given:
            row["given"] = {k: v for k, v in given.items() if k in ("optionId", "text")}
        if q.kind != SHORT_ANSWER:
            row["rightOptionId"] = q.answer
        rows.append(row)
    score = sum(1 for r in rows if r["correct"])
    total = len(rows)
    return {
        "score": score,
        "total": total,
        "percent": round(100.0 * score / total, 1) if total else 0.0,
        "questions": rows,
    }


def stats_after(stats: dict[str, Any] | None, percent: float, now: datetime) -> dict[str, Any]:
    """A quiz's history after one more submitted attempt: count, best and last score."""
    s = dict(stats or {})
    best = s.get("bestPercent")
    return {
        "attempts": int(s.get("attempts") or 0),
        "submitted": int(s.get("submitted") or 0) + 1,
        "bestPercent": percent if best is None else max(float(best), percent),
        "lastPercent": percent,
        "lastSubmittedAt": now,
    }
