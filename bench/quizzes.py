"""Quiz figures.

1. ``quality`` (no I/O): a real-ish 50-page PDF (reportlab, ``tests/unit/quizzes/corpus.py``)
   extracted and chunked by process-upload's code; quizzes made by the offline provider
   step by step as the job makes them (the same functions). Of N multiple-choice questions:
   how many have 4 distinct options, exactly one right, and every distractor from the same
   document (its text is in the document) and of the answer's kind (a defined term for a
   term, a number with the same unit for a number). Prints a sample of 10 mixed questions.
2. ``deck`` (the stack's Firestore): a 500-card deck; a 50-question quiz from it, made N
   times through the service (read the deck's cards, build, store): p50 / p95 ms.
3. ``document`` (the stack): the 50-page PDF uploaded through the gateway and processed;
   a 20-question quiz from it against the local OpenAI wire-format server (the real
   ``openai`` client), steps run in this process as the queue runs them: model calls,
   tokens, questions, wall time.

Run: ``.venv/bin/python bench/quizzes.py quality`` and
``.venv/bin/python local/stack exec --free-ports -- .venv/bin/python bench/quizzes.py deck document``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))
sys.path.insert(0, str(ROOT))

KINDS = ["multiple_choice", "true_false", "short_answer"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def passages_of_pdf(pages: int) -> tuple[list[Any], str]:
    from aksio.ai.base import Passage
    from aksio.documents.chunking import chunk_blocks
    from aksio.documents.extract import extract
    from tests.unit.quizzes.corpus import make_pdf

    extracted = extract("pdf", make_pdf(pages), max_pages=500)
    chunks = chunk_blocks(extracted.blocks)
    passages = [
        Passage(
            text=c.text,
            document_id="reader",
            chunk_id=f"{i:05d}",
            page=c.pages[0] if c.pages else None,
            last_page=c.pages[-1] if c.pages else None,
            title="Science reader.pdf",
        )
        for i, c in enumerate(chunks)
    ]
    return passages, " ".join(c.text for c in chunks)


def offline_quiz(passages: list[Any], count: int, kinds: list[str], seed: str) -> list[Any]:
    """The questions the job makes with the offline provider (its steps, in order)."""
    from aksio.quizzes import grading, jobs, offline

    steps = jobs.steps_for(count)
    made: list[Any] = []
    for step in range(steps):
        focus = jobs.focus_units(passages, step, steps)
        context = jobs.focus_units(passages, 0, 1, jobs.MAX_CONTEXT)
        want = jobs.questions_for_step(count, steps, step, len(made))
        avoid = [q.fact[0] if q.fact else q.prompt for q in made]
        new, _ = offline.make_questions(focus, want, kinds, seed=f"{seed}/{step}", context=context, avoid=avoid)
        seen = {grading.normalise(q.prompt) for q in made}
        for q in new:
            if grading.normalise(q.prompt) not in seen and len(made) < count:
                seen.add(grading.normalise(q.prompt))
                made.append(jobs.renumbered(q, len(made) + 1))
    return made


def bench_quality(pages: int) -> None:
    from aksio.quizzes import grading, offline

    passages, text = passages_of_pdf(pages)
    norm_text = grading.normalise(text)
    terms = {grading.normalise(f.answer) for f in offline.facts_of(passages) if f.group.endswith(":term")}
    unit = re.compile(r"^[\d,.]+\s?(.*)$")
    checked = four = one_right = same_doc = same_kind = 0
    for seed in ("a", "b", "c", "d"):
        for q in offline_quiz(passages, 50, ["multiple_choice"], seed):
            if q.kind != "multiple_choice":
                continue
            checked += 1
            texts = [t for _, t in q.options]
            four += len({grading.normalise(t) for t in texts}) == 4
            one_right += [oid for oid, _ in q.options].count(q.answer) == 1
            same_doc += all(grading.normalise(t) in norm_text for t in texts)
            units = {(m.group(1) if (m := unit.match(t)) else None) for t in texts}
            same_kind += all(grading.normalise(t) in terms for t in texts) or (len(units) == 1 and None not in units)
    print(f"offline quality, {pages}-page PDF ({len(passages)} chunks), 4 multiple-choice quizzes of 50:")
    print(f"  multiple-choice questions: {checked}")
    print(f"  4 distinct options: {four}/{checked}   exactly one right: {one_right}/{checked}")
    print(f"  all options from the document: {same_doc}/{checked}   all of the answer's kind: {same_kind}/{checked}")
    sample = offline_quiz(passages, 10, KINDS, "sample")
    print("  sample of 10 (mixed kinds):")
    for q in sample:
        where = f"p. {q.source.get('page')}" if q.source else ""
        options = " | ".join(f"{oid}) {t}" + (" ✓" if oid == q.answer else "") for oid, t in q.options)
        answer = f"   answer: {q.answer}" if q.kind == "short_answer" else ""
        print(f"  - [{q.kind}, {where}] {q.prompt}")
        if options:
            print(f"      {options}")
        if answer:
            print(f"   {answer}")


def bench_deck(runs: int, cards: int) -> None:
    from aksio.clients import firestore_client
    from aksio.quizzes import api, service
    from aksio.study.model import Content, new_card
    from aksio.study.repository import cards_col

    db = firestore_client()
    uid = f"bench-{uuid.uuid4().hex[:8]}"
    from aksio.study import api as study_api
    from aksio.study import service as study

    deck, _ = study.create_deck(db, uid, study_api.NewDeck(name="Bench deck"))
    batch = db.batch()
    from aksio import firestore as fs

    now = fs.utcnow()
    for i in range(cards):
        content = Content(front=f"Question {i} about topic {i * 7 % 97}?", back=f"Answer {i} ({i * 13 % 101} units)")
        cid, doc = new_card(deck["id"], content, note=None, tags=[], now=now)
        batch.set(cards_col(db, uid).document(cid), doc)
        if i % 400 == 399:
            batch.commit()
            batch = db.batch()
    batch.commit()
    times = []
    for _ in range(runs):
        body = api.NewQuiz.model_validate({"deckId": deck["id"], "count": 50})
        t = time.perf_counter()
        quiz, _ = service.create_quiz(db, uid, body)
        times.append((time.perf_counter() - t) * 1000)
        assert quiz.question_count == 50
    print(f"50-question quiz from a {cards}-card deck ({runs} runs, service + Firestore emulator):")
    print(f"  p50 {statistics.median(times):.0f} ms   p95 {pct(times, 0.95):.0f} ms   max {max(times):.0f} ms")


def bench_document(count: int) -> None:
    import requests
    from _stack import need, sign_up  # type: ignore[import-not-found]

    from aksio.ai.openai_provider import OpenAIProvider, OpenAISettings
    from aksio.clients import firestore_client
    from aksio.quizzes import api, jobs, service
    from tests.e2e.ai.wire import WireServer
    from tests.unit.quizzes.corpus import make_pdf

    gateway, auth = need("GATEWAY_URL").rstrip("/"), need("FIREBASE_AUTH_EMULATOR_HOST")
    uid, headers = sign_up(auth)
    data = make_pdf(50)
    created = requests.post(
        f"{gateway}/create-upload",
        json={"filename": "reader.pdf", "contentType": "application/pdf", "sizeBytes": len(data)},
        headers=headers,
        timeout=60,
    ).json()
    requests.put(
        created["upload"]["url"], data=data, headers=created["upload"]["headers"], timeout=120
    ).raise_for_status()
    doc_id = created["document"]["id"]
    while (doc := requests.get(f"{gateway}/documents/{doc_id}", headers=headers, timeout=60).json())["status"] not in (
        "ready",
        "failed",
    ):
        time.sleep(0.2)
    assert doc["status"] == "ready", doc
    db = firestore_client()
    wire = WireServer()
    provider = OpenAIProvider(OpenAISettings(api_key="sk-bench", base_url=wire.url, model="local-model"))
    queued: list[int] = []
    started = time.perf_counter()
    body = api.NewQuiz.model_validate({"documentIds": [doc_id], "count": count})
    quiz, _ = service.create_quiz(db, uid, body, enqueue=lambda _u, _q, s: queued.append(s) or True)
    step_times = []
    while queued:
        step = queued.pop(0)
        t = time.perf_counter()
        jobs.run_step(db, uid, quiz.id, step, provider=provider, enqueue=lambda _u, _q, s: queued.append(s) or True)
        step_times.append(time.perf_counter() - t)
    wall = time.perf_counter() - started
    wire.close()
    done = service.get_quiz(db, uid, quiz.id)
    tokens = done.tokens_used or api.QuizTokens()
    print(f"{count}-question quiz from a 50-page PDF ({doc.get('pageCount')} pages), OpenAI wire-format server:")
    print(
        f"  status {done.status}   questions {done.question_count}   steps {len(step_times)}"
        f"   model calls {done.model_calls} (server saw {wire.calls})"
    )
    print(f"  tokens: prompt {tokens.prompt}   completion {tokens.completion}   total {tokens.total}")
    print(f"  wall {wall:.2f} s   per step p50 {statistics.median(step_times) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("parts", nargs="*", default=["quality"], choices=["quality", "deck", "document"])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    for part in args.parts:
        if part == "quality":
            bench_quality(50)
        elif part == "deck":
            bench_deck(args.runs, 500)
        else:
            bench_document(20)


if __name__ == "__main__":
    main()
