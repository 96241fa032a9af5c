"""Quizzes, pure: questions from a deck's cards (kinds, distractors, determinism), the
answer key kept out of public views, answers recorded once, grading and history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aksio import errors
from aksio.quizzes import build, grading
from aksio.quizzes import model as m
from aksio.quizzes.model import MULTIPLE_CHOICE, SHORT_ANSWER, TRUE_FALSE

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def basic(front: str, back: str) -> dict[str, object]:
    return {"kind": "basic", "front": front, "back": back, "source": {"documentId": "d1", "page": 3, "key": "x"}}


CAPITALS = [
    ("Capital of France?", "Paris"),
    ("Capital of Norway?", "Oslo"),
    ("Capital of Italy?", "Rome"),
    ("Capital of Spain?", "Madrid"),
    ("Capital of Japan?", "Tokyo"),
    ("Year Hooke described cells?", "1665"),
]


def facts() -> list[build.Fact]:
    out = [build.card_fact(f"c{i}", basic(f, b)) for i, (f, b) in enumerate(CAPITALS)]
    cloze = {
        "kind": "cloze",
        "front": "The powerhouse of the cell is the [...].",
        "back": "The powerhouse of the cell is the [mitochondrion].",
        "text": "The powerhouse of the cell is the {{c1::mitochondrion}}.",
        "clozeIndex": 1,
    }
    out.append(build.card_fact("cz", cloze))
    return [f for f in out if f is not None]


def test_cloze_card_fact_hides_its_deletion_and_makes_a_statement() -> None:
    fact = facts()[-1]
    assert fact.answer == "mitochondrion"
    assert fact.prompt == "The powerhouse of the cell is the [...]."
    assert fact.statement == "The powerhouse of the cell is the {}."
    assert fact.source == {"cardId": "cz"}


def test_multiple_choice_has_four_distinct_options_exactly_one_right() -> None:
    for seed in range(30):
        qs = build.questions(facts(), 7, [MULTIPLE_CHOICE], seed=str(seed))
        assert len(qs) == 7
        for q in qs:
            assert m.question_problem(q) is None
            texts = [grading.normalise(t) for _, t in q.options]
            assert len(set(texts)) == 4
            assert [oid for oid, _ in q.options].count(q.answer) == 1
            assert q.right_text in {b for _, b in CAPITALS} | {"mitochondrion"}


def test_a_number_gets_numbers_first_and_text_gets_text() -> None:
    pool = [
        *facts(),
        build.Fact("Year of X?", "1492"),
        build.Fact("Year of Y?", "1815"),
        build.Fact("Year of Z?", "1905"),
    ]
    import random

    year = next(f for f in pool if f.answer == "1665")
    assert sorted(build.distractors(year, pool, random.Random(1))) == ["1492", "1815", "1905"]
    paris = next(f for f in pool if f.answer == "Paris")
    assert all(not d.isdigit() for d in build.distractors(paris, pool, random.Random(1)))


def test_kinds_are_dealt_round_robin_and_the_same_seed_makes_the_same_quiz() -> None:
    kinds = [MULTIPLE_CHOICE, TRUE_FALSE, SHORT_ANSWER]
    qs = build.questions(facts(), 6, kinds, seed="s")
    assert [q.kind for q in qs] == kinds * 2
    assert [q.to_stored() for q in qs] == [q.to_stored() for q in build.questions(facts(), 6, kinds, seed="s")]
    assert len(build.questions(facts(), 50, kinds, seed="s")) == len(facts())  # never more than the facts


def test_true_false_is_true_with_its_answer_and_false_with_a_distractor() -> None:
    seen = set()
    for seed in range(20):
        for q in build.questions(facts(), 7, [TRUE_FALSE], seed=str(seed)):
            assert q.options == m.TRUE_FALSE_OPTIONS
            fact_answer = q.fact[1] if q.fact else ""
            assert q.prompt.startswith("True or false: ")
            assert (fact_answer in q.prompt) == (q.answer == "true")
            seen.add(q.answer)
    assert seen == {"true", "false"}


def test_too_few_answers_for_multiple_choice_falls_back_or_makes_nothing() -> None:
    two = facts()[:3]
    assert build.questions(two, 3, [MULTIPLE_CHOICE], seed="s") == []
    assert {q.kind for q in build.questions(two, 3, [MULTIPLE_CHOICE, SHORT_ANSWER], seed="s")} == {SHORT_ANSWER}


def test_public_view_never_holds_the_key() -> None:
    for q in build.questions(facts(), 7, [MULTIPLE_CHOICE, TRUE_FALSE, SHORT_ANSWER], seed="k"):
        public = q.public()
        assert set(public) <= {"id", "kind", "prompt", "options"}
        if q.kind == SHORT_ANSWER:
            assert q.answer not in str(public)


@pytest.mark.parametrize(
    ("given", "answer", "right"),
    [
        ("paris", "Paris", True),
        ("  The   Paris. ", "Paris", True),
        ("Pàris", "Paris", True),
        ("1665", "1665 AD", True),
        ("mitochondria", "mitochondrion", False),
        ("DNA", "DNA (deoxyribonucleic acid)", True),
        ("deoxyribonucleic acid", "DNA / deoxyribonucleic acid", True),
        ("plants convert light energy into chemical energy", "Plants convert light energy into chemical energy.", True),
        ("plants convert energy", "Plants convert light energy into chemical energy.", False),
        ("", "Paris", False),
        ("Oslo", "Paris", False),
    ],
)
def test_short_answers_match_normalised_with_variants(given: str, answer: str, right: bool) -> None:
    assert grading.short_answer_right(given, grading.variants(answer)) is right


def test_answers_are_recorded_once_changed_before_submission_and_refused_after() -> None:
    attempt: dict[str, object] = {"status": "open", "answers": {}, "expiresAt": NOW + timedelta(minutes=5)}
    first = m.record_answer(attempt, "q01", {"optionId": "a"}, NOW)
    assert first.recorded
    assert first.changes["answerWrites"] == 1
    attempt["answers"] = {"q01": first.changes["answers.q01"]}
    assert not m.record_answer(attempt, "q01", {"optionId": "a"}, NOW).recorded  # the same again: nothing
    assert m.record_answer(attempt, "q01", {"optionId": "b"}, NOW).changes["answers.q01"]["revision"] == 2
    with pytest.raises(errors.Conflict) as late:
        m.record_answer(attempt, "q01", {"optionId": "b"}, NOW + timedelta(minutes=5))
    assert late.value.code == "time_limit_passed"
    with pytest.raises(errors.Conflict) as done:
        m.record_answer({"status": "submitted"}, "q01", {"optionId": "b"}, NOW)
    assert done.value.code == "attempt_submitted"


def test_answer_forms_and_unknown_options_are_refused() -> None:
    qs = build.questions(facts(), 3, [MULTIPLE_CHOICE, TRUE_FALSE, SHORT_ANSWER], seed="f")
    mc, tf, short = qs
    assert m.answer_value(mc, "c", None) == {"optionId": "c"}
    assert m.answer_value(tf, "false", None) == {"optionId": "false"}
    assert m.answer_value(short, None, " Paris ") == {"text": "Paris"}
    for q, option, text in ((mc, "e", None), (mc, None, "x"), (tf, "a", None), (short, "a", None)):
        with pytest.raises(errors.Invalid):
            m.answer_value(q, option, text)
    with pytest.raises(errors.Invalid):
        m.question_by_id(qs, "q99")


def test_grade_scores_and_explains_each_question() -> None:
    qs = build.questions(facts(), 3, [MULTIPLE_CHOICE, TRUE_FALSE, SHORT_ANSWER], seed="g")
    mc, tf, short = qs
    wrong_tf = "false" if tf.answer == "true" else "true"
    answers = {mc.id: {"optionId": mc.answer}, tf.id: {"optionId": wrong_tf}, short.id: {"text": short.answer.upper()}}
    result = m.grade(qs, answers)
    assert (result["score"], result["total"], result["percent"]) == (2, 3, 66.7)
    rows = {r["questionId"]: r for r in result["questions"]}
    assert rows[tf.id]["correct"] is False
    assert rows[tf.id]["rightOptionId"] == tf.answer
    assert rows[short.id]["rightAnswer"] == short.answer
    assert all(r["explanation"] and r["citation"]["cardId"] for r in rows.values())
    assert m.grade(qs, {}, verdicts={short.id: True})["score"] == 1
    stats = m.stats_after({"attempts": 2, "submitted": 1, "bestPercent": 80.0}, 66.7, NOW)
    assert (stats["submitted"], stats["bestPercent"], stats["lastPercent"]) == (2, 80.0, 66.7)
