"""Fixtures of the AI tests: the OpenAI wire-format server, providers pointed at it, a
signed-in gateway client with document upload, and in-process job running."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from aksio.ai.openai_provider import OpenAIProvider, OpenAISettings
from aksio.generation import model as gen_model
from aksio.generation import service as gen_store
from aksio.generation import steps as gen_steps
from tests.conftest import KEY_SET, OFFLINE_ONLY, ApiClient, User, offline_gateway_check  # noqa: F401 - shared by e2e tiers
from tests.e2e.ai.wire import WireServer


@pytest.fixture
def wire() -> Iterator[WireServer]:
    server = WireServer()
    yield server
    server.close()


@pytest.fixture
def openai_for(wire: WireServer) -> Callable[..., OpenAIProvider]:
    def make(**kw: Any) -> OpenAIProvider:
        settings = {"api_key": "sk-local-test", "base_url": wire.url, "model": "local-model", "timeout_seconds": 5.0}
        return OpenAIProvider(OpenAISettings(**(settings | kw)))

    return make


@dataclass
class Steps:
    """An in-process stand-in for the queue: records enqueued steps and runs them."""

    queued: list[tuple[str, str, int]] = field(default_factory=list)

    def enqueue(self, uid: str, job_id: str, step: int) -> bool:
        self.queued.append((uid, job_id, step))
        return True

    def drain(self, db: Any, provider: Any) -> list[str]:
        outcomes = []
        while self.queued:
            uid, job_id, step = self.queued.pop(0)
            outcomes.append(gen_steps.run_step(db, uid, job_id, step, provider=provider, enqueue=self.enqueue))
        return outcomes


@pytest.fixture
def steps() -> Steps:
    return Steps()


def start_text_job(db: Any, uid: str, steps: Steps, text: str, deck: str, **kw: Any) -> str:
    body = gen_model.GenerateRequest.model_validate({"text": text, "deckId": deck, "count": 20} | kw)
    job, created = gen_store.create_job(db, uid, body, enqueue=steps.enqueue)
    assert created
    return job.job_id


def new_deck(db: Any, uid: str, name: str = "Deck") -> str:
    from aksio.study import api as study_api
    from aksio.study import service as study_store

    deck, _ = study_store.create_deck(db, uid, study_api.NewDeck(name=name))
    return str(deck["id"])


def cards_of(db: Any, uid: str, deck_id: str | None = None) -> list[dict[str, Any]]:
    col = db.collection("users").document(uid).collection("cards")
    return [s.to_dict() | {"id": s.id} for s in col.stream() if deck_id is None or s.to_dict()["deckId"] == deck_id]


# -- through the gateway ----------------------------------------------------------------------


class Client(ApiClient):
    def deck(self, name: str = "Deck") -> str:
        return str(self.ok("POST", "/decks", 201, json={"name": name})["id"])

    def upload(self, filename: str, content_type: str, data: bytes) -> str:
        created = self.ok(
            "POST",
            "/create-upload",
            201,
            json={"filename": filename, "contentType": content_type, "sizeBytes": len(data)},
        )
        upload = created["upload"]
        response = requests.put(upload["url"], data=data, headers=upload["headers"], timeout=120)
        assert response.status_code == 200, response.text
        return str(created["document"]["id"])

    def wait_document(self, doc_id: str, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            doc: dict[str, Any] = self.ok("GET", f"/documents/{doc_id}")
            if doc["status"] in ("ready", "failed"):
                return doc
            assert time.monotonic() < deadline, f"document still {doc['status']}"
            time.sleep(0.2)

    def generate(self, **body: Any) -> str:
        started = self.ok("POST", "/generate-flashcards", 202, json=body)
        return str(started["jobId"])

    def wait_job(self, job_id: str, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job: dict[str, Any] = self.ok("GET", f"/generate-flashcards/{job_id}")
            if job["status"] in ("succeeded", "failed"):
                return job
            assert time.monotonic() < deadline, f"job still {job['status']}: {job}"
            time.sleep(0.2)


@pytest.fixture
def client_for(gateway_url: str) -> Callable[[User], Client]:
    return lambda user: Client(gateway_url, user, requests.Session())


@pytest.fixture
def client(client_for: Callable[[User], Client], user: User) -> Client:
    return client_for(user)


def task_headers() -> dict[str, str]:
    """A task call's headers: the queue's OIDC token, minted by the stack's Tasks emulator."""
    from tests.conftest import task_headers as headers

    return headers()


def random_uid() -> str:
    return "u" + uuid.uuid4().hex[:20]
