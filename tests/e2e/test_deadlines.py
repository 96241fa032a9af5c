"""A hung Firestore answers 503 within the request budget, in every function (aksio.deadlines).

This module runs its own Firestore emulator (a process it can stop with SIGSTOP, as an
operator would) and its own gateway (every function, one werkzeug threaded process, the
stack's environment but for ``FIRESTORE_EMULATOR_HOST`` and ``GATEWAY_URL``), so the
stack's emulator, which other tests use, is never paused. The other peers are the stack's:
the Auth emulator (real ID tokens), Storage, Tasks and Stripe.

With the emulator stopped, one request of each HTTP function that touches Firestore is sent
at once (concurrently, so the test takes one budget, not fifteen); each must answer 503
with ``Retry-After`` within 12 s (``REQUEST_BUDGET_S`` is 10 s): ``unavailable`` everywhere
(no transaction gets as far as an ABORTED, so nothing is ``contention``), and health its own
``degraded`` body after its 3 s probe. The times are printed (``pytest -s``). After SIGCONT
a review sent while paused is retried with the same ``reviewId`` and applies exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from aksio import deadlines
from tests.conftest import User, need_env, sign_up, task_headers
from tests.unit.billing import events as ev

ROOT = Path(__file__).resolve().parents[2]
LIMIT_S = 12.0
PEERS = (
    "FIREBASE_AUTH_EMULATOR_HOST",
    "STORAGE_EMULATOR_HOST",
    "CLOUD_TASKS_EMULATOR_HOST",
    "STRIPE_API_BASE",
    "STRIPE_WEBHOOK_SECRET",
    "TASKS_AUTH_SECRET",
    "TASKS_OIDC_CERTS_URL",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, ready: Callable[[], bool], process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} not ready after {timeout} s")


def _port_open(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@dataclass
class Private:
    """This module's emulator and gateway."""

    emulator: subprocess.Popen[bytes]
    emulator_host: str
    gateway: str

    def pause(self) -> None:
        self.emulator.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.emulator.send_signal(signal.SIGCONT)


@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Private]:
    need_env(*PEERS)
    logs = tmp_path_factory.mktemp("deadlines")
    fs_port, gw_port = _free_port(), _free_port()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "firestore_emulator", "--host", "127.0.0.1", "--port", str(fs_port)],
        cwd=ROOT / "local",
        stdout=(logs / "firestore.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    processes = [emulator]
    try:
        _wait("firestore emulator", lambda: _port_open(fs_port), emulator)
        gateway_url = f"http://127.0.0.1:{gw_port}"
        env = os.environ | {"FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{fs_port}", "GATEWAY_URL": gateway_url}
        gateway = subprocess.Popen(
            [sys.executable, str(ROOT / "local" / "gateway.py"), "--host", "127.0.0.1", "--port", str(gw_port)],
            cwd=ROOT,
            env=env,
            stdout=(logs / "gateway.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        processes.append(gateway)
        _wait("gateway", lambda: requests.get(f"{gateway_url}/health", timeout=5).status_code == 200, gateway)
        yield Private(emulator, f"127.0.0.1:{fs_port}", gateway_url)
    finally:
        for process in reversed(processes):
            _stop(process)


@dataclass
class Answer:
    name: str
    status: int
    code: str | None
    retry_after: str | None
    seconds: float
    body: Any


def _send(name: str, method: str, url: str, **kw: Any) -> Answer:
    started = time.monotonic()
    response = requests.request(method, url, timeout=60, **kw)
    seconds = time.monotonic() - started
    try:
        body = response.json()
    except ValueError:
        body = response.text
    code = body.get("error", {}).get("code") if isinstance(body, dict) else None
    return Answer(name, response.status_code, code, response.headers.get("Retry-After"), seconds, body)


def _requests(base: str, user: User, deck_id: str, card_id: str, review_id: str) -> dict[str, tuple[Any, ...]]:
    """One request of each HTTP function that touches Firestore: (method, url, kwargs)."""
    auth = {"headers": user.headers}
    subscription = ev.subscription(f"sub_{uuid.uuid4().hex[:14]}", f"cus_{uuid.uuid4().hex[:14]}", "active",
                                   period_end=int(time.time()) + 30 * 86400)  # fmt: skip
    event = ev.body(ev.event("customer.subscription.updated", subscription, int(time.time())))
    secret = os.environ["STRIPE_WEBHOOK_SECRET"].split(",")[0]
    task = json.dumps({"uid": user.uid, "jobId": "job-paused", "step": 0})
    return {
        "health": ("GET", f"{base}/health", {}),
        "decks": ("GET", f"{base}/decks", auth),
        "cards": ("GET", f"{base}/cards", auth | {"params": {"deckId": deck_id}}),
        "review-card": (
            "POST",
            f"{base}/review-card",
            auth | {"json": {"cardId": card_id, "rating": "good", "reviewId": review_id}},
        ),
        "study-queue": ("GET", f"{base}/study-queue", auth),
        "stats": ("GET", f"{base}/stats", auth),
        "account": ("GET", f"{base}/account", auth),
        "documents": ("GET", f"{base}/documents", auth),
        "create-upload": (
            "POST",
            f"{base}/create-upload",
            auth | {"json": {"filename": "notes.md", "contentType": "text/markdown", "sizeBytes": 10}},
        ),
        "generate-flashcards": (
            "POST",
            f"{base}/generate-flashcards",
            auth | {"json": {"text": "Mitochondria release energy as ATP.", "deckId": deck_id, "count": 2}},
        ),
        "chat-reply": ("POST", f"{base}/chat-reply", auth | {"json": {"message": "What is ATP?"}}),
        "create-checkout-session": ("POST", f"{base}/create-checkout-session", auth | {"json": {}}),
        "create-portal-session": ("POST", f"{base}/create-portal-session", auth | {"json": {}}),
        "stripe-webhook": (
            "POST",
            f"{base}/stripe-webhook",
            {
                "data": event,
                "headers": {"Content-Type": "application/json", "Stripe-Signature": ev.sign(event, secret)},
            },
        ),
        "notifications": ("GET", f"{base}/notifications", auth),
        "send-reminders": (
            "POST",
            f"{base}/send-reminders",
            {
                "json": {"job": "send-reminders", "scheduledTime": "2026-01-05T09:00:00Z"},
                "headers": {"X-Aksio-Task-Secret": os.environ["TASKS_AUTH_SECRET"]},
            },
        ),
        "run-generation": (
            "POST",
            f"{base}/run-generation",
            {
                "data": task,
                "headers": task_headers(base),
            },
        ),
    }


def _stored(emulator_host: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A plain client of this module's emulator (to look at what was stored)."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import firestore

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator_host)
    project = os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCLOUD_PROJECT") or "demo-aksio"
    return firestore.Client(project=project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]


def test_with_firestore_paused_every_function_answers_503_in_time_and_a_retried_review_applies_once(
    private: Private, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = private.gateway
    user = sign_up(need_env("FIREBASE_AUTH_EMULATOR_HOST")["FIREBASE_AUTH_EMULATOR_HOST"])
    session = requests.Session()
    deck = session.post(f"{base}/decks", json={"name": "Paused"}, headers=user.headers, timeout=60)
    assert deck.status_code == 201, deck.text
    deck_id = deck.json()["id"]
    card = session.post(
        f"{base}/cards", json={"deckId": deck_id, "front": "ATP?", "back": "energy"}, headers=user.headers, timeout=60
    )
    assert card.status_code == 201, card.text
    card_id = card.json()["cards"][0]["id"]
    review_id = uuid.uuid4().hex
    planned = _requests(base, user, deck_id, card_id, review_id)

    private.pause()
    try:
        with ThreadPoolExecutor(len(planned)) as pool:
            futures = [pool.submit(_send, name, method, url, **kw) for name, (method, url, kw) in planned.items()]
            answers = [f.result() for f in futures]
    finally:
        private.resume()

    print(f"\nFirestore paused (SIGSTOP); request budget {deadlines.REQUEST_BUDGET_S:g} s, limit {LIMIT_S:g} s:")
    for a in sorted(answers, key=lambda a: a.seconds):
        what = a.code or (a.body.get("status") if isinstance(a.body, dict) else "?")
        print(f"  {a.name:<24} {a.status} {what!s:<12} Retry-After {a.retry_after}  {a.seconds:5.2f} s")
    for a in answers:
        assert a.status == 503, (a.name, a.status, a.body)
        assert a.retry_after, (a.name, "no Retry-After")
        assert a.seconds < LIMIT_S, (a.name, a.seconds)
        if a.name == "health":
            assert a.body["status"] == "degraded"
            assert a.body["checks"]["firestore"]["ok"] is False
        else:
            assert a.code == "unavailable", (a.name, a.body)

    # Resumed: the review sent while paused, retried with the same reviewId, applies once.
    started = time.monotonic()
    first = session.post(
        f"{base}/review-card",
        json={"cardId": card_id, "rating": "good", "reviewId": review_id},
        headers=user.headers,
        timeout=60,
    )
    replayed = first.headers.get("Idempotent-Replayed")
    took = time.monotonic() - started
    print(f"  after SIGCONT: the review retried -> {first.status_code} (replayed: {replayed}) in {took:.2f} s")
    assert first.status_code == 200, first.text
    again = session.post(
        f"{base}/review-card",
        json={"cardId": card_id, "rating": "good", "reviewId": review_id},
        headers=user.headers,
        timeout=60,
    )
    assert again.status_code == 200, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    db = _stored(private.emulator_host, monkeypatch)
    user_ref = db.collection("users").document(user.uid)
    logs = [s.to_dict() for s in user_ref.collection("reviews").stream() if s.to_dict().get("cardId") == card_id]
    assert len(logs) == 1
    assert user_ref.collection("cards").document(card_id).get().to_dict()["reps"] == 1
    assert requests.get(f"{base}/health", timeout=10).status_code == 200
    db.close()
