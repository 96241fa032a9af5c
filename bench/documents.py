"""Documents: processing a 300-page PDF, and lexical retrieval over 10,000 chunks.

1. ``300-page PDF``: a lecture-like PDF (reportlab, ~45 lines of ~90 characters a page)
   processed by the same code as ``process-upload`` — type check, pypdfium2 extraction,
   chunking, the BM25 index — in a fresh interpreter, printing the time of each step and
   the process's peak RSS (interpreter and libraries included). With
   ``FIRESTORE_EMULATOR_HOST`` set it also writes the chunks and the index to the emulator,
   as the function does. With ``GATEWAY_URL`` and ``FIREBASE_AUTH_EMULATOR_HOST`` too, it
   times the whole path through the local stack: create-upload, the signed-URL PUT, the
   bridge's event, process-upload, until the document reads ``ready``.
   Goal: < 2 s, < 256 MB.
2. ``retrieval``: 10,000 chunks of ~650 words over a 30,000-word Zipf vocabulary in 50
   documents of 200 chunks; the index is built, stored in parts and loaded as retrieval
   does; then 1,000 queries of 2-6 words: p50 / p95 / max per query in process (the
   lookup and scoring; the chunk reads of a real call are one batched read of k chunks),
   each query's time the best of 3 runs.
   Goal: ≤ 5 ms per query.

Run: ``.venv/bin/python bench/documents.py`` (or under the stack:
``.venv/bin/python local/stack exec -- .venv/bin/python bench/documents.py``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))
sys.path.insert(0, str(ROOT))

PAGES = 300


def make_pdf(pages: int) -> bytes:
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    rng = random.Random(7)
    words = [w.strip(".,") for w in (ROOT / "README.md").read_text().split() if w.isalpha()]
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=True)
    for page in range(1, pages + 1):
        c.setFont("Helvetica-Bold", 14)
        c.drawString(40, 810, f"Chapter {page}: {' '.join(rng.choices(words, k=4))}")
        c.setFont("Helvetica", 9)
        y = 790
        for _ in range(45):
            c.drawString(40, y, " ".join(rng.choices(words, k=14)) + ".")
            y -= 16
        c.showPage()
    c.save()
    return out.getvalue()


def child_pdf(path: str) -> None:
    """Runs in a fresh interpreter: one document's processing, timed step by step."""
    timings: dict[str, float] = {}
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    data = Path(path).read_bytes()
    from aksio.documents import kinds, lexical
    from aksio.documents.chunking import chunk_blocks
    from aksio.documents.extract import extract

    t = time.perf_counter()
    kinds.check_type("pdf", data)
    extracted = extract("pdf", data, max_pages=500)
    timings["extract"] = time.perf_counter() - t
    t = time.perf_counter()
    chunks = chunk_blocks(extracted.blocks)
    timings["chunk"] = time.perf_counter() - t
    t = time.perf_counter()
    parts = lexical.build(c.text for c in chunks).parts()
    timings["index"] = time.perf_counter() - t
    if os.environ.get("FIRESTORE_EMULATOR_HOST"):
        from aksio.clients import firestore_client
        from aksio.documents import repository

        db = firestore_client()
        uid = f"bench-{uuid.uuid4().hex[:8]}"
        t = time.perf_counter()
        repository.write_chunks(db, uid, "pdf300", chunks)
        repository.write_index(db, uid, "pdf300", parts, "1")
        timings["firestore writes"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "pages": extracted.page_count,
                "chunks": len(chunks),
                "chars": extracted.chars,
                "index_kb": sum(len(p) for p in parts) // 1024,
                "timings": timings,
                "peak_mb": peak,
                "start_mb": base,
            }
        )
    )


def bench_pdf(tmp: Path) -> None:
    pdf = make_pdf(PAGES)
    path = tmp / "bench-300.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        [sys.executable, __file__, "--child-pdf", str(path)], capture_output=True, text=True, check=True
    ).stdout
    r = json.loads(out.strip().splitlines()[-1])
    print(f"300-page PDF ({len(pdf) // 1024} KB, {r['chars']:,} characters of text)")
    print(f"  pages {r['pages']}, chunks {r['chunks']}, index {r['index_kb']} KB compressed")
    for step, seconds in r["timings"].items():
        print(f"  {step:<18} {seconds * 1000:8.0f} ms")
    print(f"  peak RSS          {r['peak_mb']:8.0f} MB (a bare interpreter: {r['start_mb']:.0f} MB)")
    if os.environ.get("GATEWAY_URL") and os.environ.get("FIREBASE_AUTH_EMULATOR_HOST"):
        bench_stack(pdf)


def bench_stack(pdf: bytes) -> None:
    import requests

    from tests.conftest import sign_up

    user = sign_up(os.environ["FIREBASE_AUTH_EMULATOR_HOST"])
    base = os.environ["GATEWAY_URL"].rstrip("/")
    headers = {"Authorization": f"Bearer {user.id_token}"}
    started = time.perf_counter()
    body = {"filename": "bench.pdf", "contentType": "application/pdf", "sizeBytes": len(pdf)}
    created = requests.post(f"{base}/create-upload", json=body, headers=headers, timeout=30).json()
    requests.put(created["upload"]["url"], data=pdf, headers=created["upload"]["headers"], timeout=60)
    uploaded = time.perf_counter()
    doc_id = created["document"]["id"]
    while True:
        doc = requests.get(f"{base}/documents/{doc_id}", headers=headers, timeout=30).json()
        if doc["status"] in ("ready", "failed"):
            break
        time.sleep(0.05)
    done = time.perf_counter()
    print(
        f"  through the stack: {doc['status']} in {(done - started) * 1000:.0f} ms "
        f"(upload {(uploaded - started) * 1000:.0f} ms, then event + processing {(done - uploaded) * 1000:.0f} ms,"
        " including the bridge's ≤ 0.5 s polling)"
    )


def _latencies(indexes: list, queries: list[str]) -> list[float]:  # type: ignore[type-arg]
    from aksio.documents import lexical

    for q in queries[:50]:
        lexical.search(indexes, q, 8)  # warm up (per-instance caches, as a serving instance has)
    times = []
    for q in queries:
        best = float("inf")
        for _ in range(3):  # best of 3: this machine is shared, and preemption is not the code's cost
            t = time.perf_counter()
            lexical.search(indexes, q, 8)
            best = min(best, (time.perf_counter() - t) * 1000)
        times.append(best)
    times.sort()
    return times


def _line(label: str, times: list[float]) -> str:
    return (
        f"  {label}: p50 {statistics.median(times):.2f} ms, p95 {times[int(len(times) * 0.95)]:.2f} ms, "
        f"max {times[-1]:.2f} ms, mean {statistics.mean(times):.2f} ms per query"
    )


def bench_retrieval() -> None:
    from aksio.documents import lexical

    rng = random.Random(1)
    vocab = [f"{a}{b}" for a, b in itertools.product(["ka", "lo", "mi", "ne", "su", "ta"] * 5, range(1000))][:30000]
    cum = list(itertools.accumulate(1 / (i + 1) for i in range(len(vocab))))
    t = time.perf_counter()
    docs = [[" ".join(rng.choices(vocab, cum_weights=cum, k=650)) for _ in range(200)] for _ in range(50)]
    generated = time.perf_counter() - t
    t = time.perf_counter()
    built = [lexical.build(d) for d in docs]
    build = time.perf_counter() - t
    parts = [ix.parts() for ix in built]
    t = time.perf_counter()
    indexes = [lexical.Index.from_parts(p) for p in parts]
    load = time.perf_counter() - t
    one = [lexical.build([c for d in docs for c in d])]
    queries = [" ".join(rng.choices(vocab[:8000], k=rng.randint(2, 6))) for _ in range(1000)]
    print(
        f"retrieval over {sum(ix.chunk_count for ix in indexes):,} chunks (~650 words each), 1,000 queries of 2-6 words"
    )
    print(
        f"  (corpus generated in {generated:.1f} s; 50 indexes built in {build:.1f} s, "
        f"loaded from their stored parts in {load:.2f} s)"
    )
    print(_line("50 documents of 200 chunks", _latencies(indexes, queries)))
    print(_line("one document of 10,000 chunks", _latencies(one, queries)))
    print(_line("one document of 200 chunks", _latencies(indexes[:1], queries)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child-pdf", help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["pdf", "retrieval"])
    args = parser.parse_args()
    if args.child_pdf:
        child_pdf(args.child_pdf)
        return
    import tempfile

    if args.only in (None, "pdf"):
        with tempfile.TemporaryDirectory() as tmp:
            bench_pdf(Path(tmp))
    if args.only in (None, "retrieval"):
        bench_retrieval()


if __name__ == "__main__":
    main()
