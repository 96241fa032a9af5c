"""AI figures on the local stack.

1. ``chat-reply`` latency through the gateway with the offline provider (no key): p50, p95
   and mean over N questions about an uploaded 50-page document (the seed target is
   p95 < 5 s). The user is put on the pro plan so the daily tutor quota does not stop the run.
2. The generation of the same 50-page document (chunked by process-upload) against a local
   server speaking OpenAI's wire format, with the real ``openai`` client: steps run in this
   process one after the other as the queue would run them; prints model calls, prompt and
   completion tokens, cards, and wall time (total and per step), with the fake model
   answering at once and, optionally, after a simulated model latency.

Run: ``.venv/bin/python local/stack exec -- .venv/bin/python bench/ai.py [--questions 60]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))
from _stack import need, sign_up  # noqa: E402

sys.path.insert(0, str(ROOT))

TOPICS = [
    ("mitochondria", "Mitochondria are organelles that release energy from glucose during cellular respiration."),
    ("chlorophyll", "Chlorophyll is the green pigment that absorbs light in the chloroplasts."),
    ("osmosis", "Osmosis is the movement of water across a membrane from low to high solute concentration."),
    ("ribosomes", "Ribosomes are molecular machines that build proteins from amino acids."),
    ("enzymes", "Enzymes are proteins that speed up chemical reactions without being used up."),
]


def page(n: int) -> str:
    name, fact = TOPICS[n % len(TOPICS)]
    lines = [f"# Chapter {n}: {name} ({n})", "", fact.replace(".", f" in example {n}.")]
    lines += [
        f"Topic {n * 100 + i} of page {n} explains the {name} of cells and the process number {n * 7 + i}."
        for i in range(14)
    ]
    lines.append(f"The stages of process {n} include uptake, transport, conversion and release.")
    return "\n".join(lines)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Student:
    def __init__(self, gateway: str, auth_host: str) -> None:
        self.gateway = gateway
        self.session = requests.Session()
        self.uid, self.headers = sign_up(auth_host)

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.session.request(method, self.gateway + path, headers=self.headers, timeout=120, **kw)

    def upload(self, name: str, data: bytes) -> str:
        body = {"filename": name, "contentType": "text/markdown", "sizeBytes": len(data)}
        created = self.call("POST", "/create-upload", json=body).json()
        up = created["upload"]
        requests.put(up["url"], data=data, headers=up["headers"], timeout=120).raise_for_status()
        doc_id = created["document"]["id"]
        deadline = time.monotonic() + 180
        while True:
            doc = self.call("GET", f"/documents/{doc_id}").json()
            if doc["status"] in ("ready", "failed"):
                assert doc["status"] == "ready", doc
                return str(doc_id)
            assert time.monotonic() < deadline, doc
            time.sleep(0.2)


def bench_chat(student: Student, doc_id: str, questions: int) -> None:
    asks = [f"What do {TOPICS[i % len(TOPICS)][0]} do in example {i * 3 % 50}?" for i in range(questions)]
    chat_id = None
    times = []
    cited = 0
    for i, q in enumerate(asks):
        body: dict[str, Any] = {"message": q, "documentIds": [doc_id]}
        if chat_id and i % 5:
            body["chatId"] = chat_id  # most questions continue a chat (history is read and trimmed)
        started = time.perf_counter()
        r = student.call("POST", "/chat-reply", json=body)
        times.append(time.perf_counter() - started)
        assert r.status_code == 200, r.text
        reply = r.json()
        chat_id = reply["chatId"]
        cited += bool(reply["message"]["citations"])
    ms = [t * 1000 for t in times]
    print(f"chat-reply (offline provider, gateway, 50-page document), {questions} questions:")
    print(
        f"  p50 {pct(ms, 0.5):.0f} ms   p95 {pct(ms, 0.95):.0f} ms   mean {statistics.mean(ms):.0f} ms"
        f"   max {max(ms):.0f} ms   answers with citations {cited}/{questions}"
    )


def bench_generation(uid: str, doc_id: str, latency: float, count: int) -> None:
    from aksio.ai.openai_provider import OpenAIProvider, OpenAISettings
    from aksio.clients import firestore_client
    from aksio.generation import model as gen_model
    from aksio.generation import service as gen_store
    from aksio.generation import steps as gen_steps
    from aksio.study import api as study_api
    from aksio.study import service as study_store
    from tests.e2e.ai.wire import Scripted, WireServer

    db = firestore_client()
    wire = WireServer()
    if latency:
        wire.script = [Scripted(delay=latency) for _ in range(1000)]
    provider = OpenAIProvider(OpenAISettings(api_key="sk-bench", base_url=wire.url, model="local-model"))
    deck, _ = study_store.create_deck(db, uid, study_api.NewDeck(name=f"bench {uuid.uuid4().hex[:6]}"))
    queued: list[int] = []
    body = gen_model.GenerateRequest(document_ids=[doc_id], deck_id=deck["id"], count=count)
    started = time.perf_counter()
    job, _ = gen_store.create_job(db, uid, body, enqueue=lambda _u, _j, step: queued.append(step) or True)
    step_times = []
    while queued:
        step = queued.pop(0)
        t = time.perf_counter()
        gen_steps.run_step(
            db, uid, job.job_id, step, provider=provider, enqueue=lambda _u, _j, s: queued.append(s) or True
        )
        step_times.append(time.perf_counter() - t)
    wall = time.perf_counter() - started
    wire.close()
    done = gen_store.get_job(db, uid, job.job_id)
    tokens = done.tokens_used
    label = f"model latency {latency:.1f} s" if latency else "model answers at once"
    print(f"generation of the 50-page document, {count} cards asked, OpenAI wire-format server ({label}):")
    print(
        f"  status {done.status}   chunks {done.progress.chunks_total}   steps {done.progress.steps_total}"
        f"   model calls {done.model_calls} (server saw {wire.calls})"
    )
    print(
        f"  tokens: prompt {tokens.prompt}   completion {tokens.completion}   total {tokens.total}"
        f"   ({tokens.total / max(done.progress.chunks_total, 1):.0f} per chunk)"
    )
    print(
        f"  cards {done.cards_created}   duplicates skipped {done.duplicates_skipped}   rejected {done.rejected}"
        f"   wall {wall:.2f} s   per step p50 {pct(step_times, 0.5) * 1000:.0f} ms"
        f" max {max(step_times) * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--cards", type=int, default=100)
    parser.add_argument("--model-latency", type=float, default=0.5, help="seconds; 0 skips the second run")
    args = parser.parse_args()
    gateway = need("GATEWAY_URL").rstrip("/")
    auth = need("FIREBASE_AUTH_EMULATOR_HOST")
    need("FIRESTORE_EMULATOR_HOST")
    from aksio.clients import firestore_client

    student = Student(gateway, auth)
    firestore_client().collection("users").document(student.uid).set(
        {"billing": {"plan": "pro", "status": "active"}}, merge=True
    )
    document = "\n\f".join(page(n) for n in range(1, 51)).encode()
    started = time.perf_counter()
    doc_id = student.upload("Fifty pages.md", document)
    chunks = student.call("GET", f"/documents/{doc_id}").json().get("chunkCount")
    took = time.perf_counter() - started
    print(f"50-page document ({len(document) // 1024} KiB): ready in {took:.1f} s, {chunks} chunks")
    bench_chat(student, doc_id, args.questions)
    bench_generation(student.uid, doc_id, 0.0, args.cards)
    if args.model_latency:
        print("  (the second run is for the same user: cards the first run made are skipped as duplicates)")
        bench_generation(student.uid, doc_id, args.model_latency, args.cards)


if __name__ == "__main__":
    main()
