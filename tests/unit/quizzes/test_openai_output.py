"""The model's quiz output, validated before anything is kept (pure: no model call)."""

from __future__ import annotations

import json

from aksio.ai.base import Passage
from aksio.quizzes import openai_quiz
from aksio.quizzes.model import question_problem

PASSAGES = [Passage(text="Osmosis is the movement of water.", document_id="d1", chunk_id="c0", page=4, title="Bio")]
ALL = ["multiple_choice", "true_false", "short_answer"]


def item(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "kind": "multiple_choice",
        "prompt": "What is osmosis?",
        "options": ["Movement of water", "Cell division", "Protein synthesis", "Respiration"],
        "answer": "movement of water",
        "accepted": [],
        "explanation": "Osmosis moves water.",
        "passage": 1,
        "quote": "Osmosis is the movement of water.",
    }
    return base | over


def test_valid_questions_are_kept_with_their_citation_and_key() -> None:
    reply = {
        "questions": [
            item(),
            item(kind="true_false", prompt="Osmosis moves water.", options=[], answer="TRUE"),
            item(kind="short_answer", prompt="What moves in osmosis?", options=[], answer="Water", accepted=["H2O"]),
        ]
    }
    kept, rejected, problem = openai_quiz.parse(json.dumps(reply), PASSAGES, ALL)
    assert (rejected, problem) == ([], None)
    mc, tf, short = kept
    assert mc.answer == "a"
    assert mc.source == {**PASSAGES[0].source(), "quote": "Osmosis is the movement of water."}
    assert (tf.prompt, tf.answer) == ("True or false: Osmosis moves water.", "true")
    assert short.accepted == ("water", "h2o")
    assert all(question_problem(q) is None for q in kept)


def test_broken_questions_are_dropped_with_the_reason() -> None:
    reply = {
        "questions": [
            item(options=["A", "B", "B", "C"], answer="A"),
            item(answer="Photosynthesis"),
            item(passage=7),
            item(kind="true_false", options=[], answer="maybe"),
            item(kind="short_answer", options=[], answer=""),
            {"kind": "essay"},
            item(),
        ]
    }
    kept, rejected, problem = openai_quiz.parse(json.dumps(reply), PASSAGES, ALL)
    assert problem is None
    assert len(kept) == 1
    assert sorted(rejected) == [
        "a question did not match the schema",
        "a question did not match the schema",
        "cites a passage that does not exist",
        "multiple choice whose answer is not exactly one of its options",
        "multiple choice without 4 distinct options",
        "true/false answered neither true nor false",
    ]
    _, why, _ = openai_quiz.parse(json.dumps({"questions": [item()]}), PASSAGES, ["short_answer"])
    assert why == ["a multiple_choice question was not asked for"]


def test_a_reply_with_nothing_usable_is_a_problem_to_repair() -> None:
    assert openai_quiz.parse("no json", PASSAGES, ALL)[2] is not None
    assert openai_quiz.parse(json.dumps({"questions": [item(passage=9)]}), PASSAGES, ALL)[2] is not None
    assert openai_quiz.parse(json.dumps({"questions": []}), PASSAGES, ALL) == ([], [], None)
