"""Time to first token of a tutor answer, as the web app shows it, with a model that streams.

The stack's tests run the offline provider, which answers at once; here the gateway talks to
the OpenAI wire-format fake (``tests/e2e/ai/wire.py``, the real ``openai`` client on both
sides) made to stream like a hosted model: ``--first-token-ms`` before its first token, then
``--token-ms`` per token. A student signs in to the web app in Chromium, asks ``--questions``
questions about an uploaded PDF, and the bench reads, from the page, the time to the first
token and to the complete answer the app displays. What the backend adds before the model's
first token (auth, the question's embedding, retrieval, the usage reservation) is the shown
time to first token minus ``--first-token-ms``.

Run: ``.venv/bin/python bench/web_tutor.py [--questions 10] [--first-token-ms 400] [--token-ms 25]``
(it starts its own stack on free ports, with the fake model as ``OPENAI_BASE_URL``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lib")]

QUESTIONS = [
    "What is osmosis?",
    "What is diffusion?",
    "What do mitochondria do?",
    "What is an enzyme?",
    "What is mitosis?",
    "What is a gene?",
    "What is homeostasis?",
    "What is an ecosystem?",
    "What is natural selection?",
    "What is a mutation?",
]


def outer(args: argparse.Namespace) -> int:
    from tests.e2e.ai.wire import WireServer

    wire = WireServer()
    wire.first_token_delay = args.first_token_ms / 1000
    wire.token_delay = args.token_ms / 1000
    env = os.environ | {
        "AKSIO_KEEP_OPENAI": "1",
        "AI_PROVIDER": "openai",
        "OPENAI_API_KEY": "sk-local-bench",
        "OPENAI_BASE_URL": wire.url,
        "AKSIO_SCHEDULER_CLOCK": "off",
    }
    python = sys.executable
    inner = [python, __file__, "--inner", "--questions", str(args.questions)]
    try:
        return subprocess.call([python, str(ROOT / "local" / "stack"), "exec", "--free-ports", "--", *inner], env=env)
    finally:
        streamed = [r for r in wire.requests if r.get("stream")]
        print(f"model: {len(streamed)} streamed chat completions, {len(wire.requests) - len(streamed)} other calls")
        wire.close()


def inner(args: argparse.Namespace) -> int:
    import requests
    from playwright.sync_api import expect, sync_playwright

    from tests.browser.conftest import CHROMIUM, FLAGS, sign_in
    from tests.browser.pdfs import reader
    from tests.conftest import sign_up
    from tests.e2e.documents.conftest import Client

    gateway = os.environ["GATEWAY_URL"]
    user = sign_up(os.environ["FIREBASE_AUTH_EMULATOR_HOST"])
    api = Client(gateway, user, requests.Session())
    doc = api.wait(api.upload("reader.pdf", "application/pdf", reader(6)))
    assert doc["status"] == "ready", doc
    ttft: list[int] = []
    total: list[int] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        sign_in(page, gateway.replace("://127.0.0.1", "://localhost") + "/", user.email)
        page.get_by_role("link", name="Tutor").click()
        for i in range(args.questions):
            page.get_by_role("button", name="New chat").click()
            page.get_by_label("Your question").fill(QUESTIONS[i % len(QUESTIONS)])
            page.get_by_role("button", name="Ask").click()
            timing = page.locator(".message.assistant .timing").last
            expect(timing).to_contain_text("complete after", timeout=60_000)
            ttft.append(int(timing.get_attribute("data-ttft-ms") or 0))
            total.append(int(timing.inner_text().split("complete after ")[1].split(" ms")[0]))
        browser.close()
    print(f"tutor answers shown in the web app, {args.questions} questions (Chromium, local stack):")
    print(f"  time to first token: median {statistics.median(ttft):.0f} ms (min {min(ttft)}, max {max(ttft)})")
    print(f"  complete answer:     median {statistics.median(total):.0f} ms (min {min(total)}, max {max(total)})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--first-token-ms", type=int, default=400)
    parser.add_argument("--token-ms", type=int, default=25)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    started = time.monotonic()
    code = inner(args) if args.inner else outer(args)
    if not args.inner:
        print(f"model streaming: first token after {args.first_token_ms} ms, then {args.token_ms} ms a token")
        print(f"({time.monotonic() - started:.0f} s in all)")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
