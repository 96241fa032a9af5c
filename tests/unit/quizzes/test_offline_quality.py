"""The offline provider's quizzes on a real 50-page PDF (reportlab; extracted and chunked by
process-upload's code), made step by step as the job makes them: every multiple-choice
question has 4 distinct options, exactly one right, every option from the same document
and of the answer's kind; every question cites its document and page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from aksio.ai.base import Passage
from aksio.documents.chunking import chunk_blocks
from aksio.documents.extract import extract
from aksio.quizzes import grading, jobs, offline
from aksio.quizzes.model import question_problem
from tests.unit.quizzes.corpus import make_pdf

UNIT = re.compile(r"^[\d,.]+\s?(.*)$")


@pytest.fixture(scope="module")
def reader() -> tuple[list[Passage], str]:
    chunks = chunk_blocks(extract("pdf", make_pdf(50), max_pages=500).blocks)
    passages = [
        Passage(text=c.text, document_id="reader", chunk_id=f"{i:05d}", page=c.pages[0], last_page=c.pages[-1])
        for i, c in enumerate(chunks)
    ]
    return passages, grading.normalise(" ".join(c.text for c in chunks))


def job_questions(passages: list[Passage], count: int, kinds: list[str], seed: str) -> list[Any]:
    steps, made = jobs.steps_for(count), []
    for step in range(steps):
        want = jobs.questions_for_step(count, steps, step, len(made))
        new, usage = offline.make_questions(
            jobs.focus_units(passages, step, steps),
            want,
            kinds,
            seed=f"{seed}/{step}",
            context=passages,
            avoid=[q.fact[0] for q in made],
        )
        assert usage.prompt_tokens > 0
        made += new
    return made


def test_multiple_choice_on_a_50_page_pdf_is_all_well_formed_and_from_the_document(
    reader: tuple[list[Passage], str],
) -> None:
    passages, text = reader
    terms = {grading.normalise(f.answer) for f in offline.facts_of(passages) if f.group.endswith(":term")}
    questions = job_questions(passages, 50, ["multiple_choice"], "quality")
    assert len(questions) == 50
    assert len({q.prompt for q in questions}) == 50
    for q in questions:
        texts = [t for _, t in q.options]
        assert question_problem(q) is None
        assert len({grading.normalise(t) for t in texts}) == 4
        assert [oid for oid, _ in q.options].count(q.answer) == 1
        assert all(grading.normalise(t) in text for t in texts), texts
        units = {(m.group(1) if (m := UNIT.match(t)) else None) for t in texts}
        assert all(grading.normalise(t) in terms for t in texts) or (len(units) == 1 and None not in units), texts
        assert q.source["documentId"] == "reader"
        assert 1 <= q.source["page"] <= 50


def test_true_false_swaps_a_term_of_the_document_and_short_answers_come_from_definitions(
    reader: tuple[list[Passage], str],
) -> None:
    passages, text = reader
    questions = job_questions(passages, 30, ["true_false", "short_answer"], "mixed")
    assert {q.kind for q in questions} == {"true_false", "short_answer"}
    falses = [q for q in questions if q.kind == "true_false" and q.answer == "false"]
    assert falses
    for q in falses:
        statement = q.prompt.removeprefix("True or false: ")
        assert grading.normalise(statement) not in text  # the swapped statement is not the document's
        assert q.fact[1] not in statement
    for q in questions:
        if q.kind == "short_answer":
            assert q.answer in q.fact
            assert grading.short_answer_right(q.answer.lower(), q.accepted)
