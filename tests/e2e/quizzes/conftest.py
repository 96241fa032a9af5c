"""Helpers of the quiz e2e tests: a signed-in gateway client that makes decks, cards and
quizzes, and the stored answer key (read from Firestore, as only the server may)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.conftest import User
from tests.e2e.ai.conftest import Client as AiClient

FACTS = [
    ("What is the capital of France?", "Paris"),
    ("What is the capital of Norway?", "Oslo"),
    ("What is the capital of Italy?", "Rome"),
    ("What is the capital of Spain?", "Madrid"),
    ("What is the capital of Japan?", "Tokyo"),
    ("What is the capital of Kenya?", "Nairobi"),
    ("What is the capital of Peru?", "Lima"),
    ("What is the capital of Canada?", "Ottawa"),
    ("In which year did Robert Hooke describe cells?", "1665"),
    ("In which year did Darwin publish On the Origin of Species?", "1859"),
]


class Client(AiClient):
    def deck_with_cards(self, facts: list[tuple[str, str]] = FACTS, name: str = "Geography") -> str:
        deck = str(self.ok("POST", "/decks", 201, json={"name": name})["id"])
        for front, back in facts:
            self.ok("POST", "/cards", 201, json={"deckId": deck, "front": front, "back": back})
        return deck

    def quiz(self, status: int = 201, **body: Any) -> dict[str, Any]:
        return dict(self.ok("POST", "/quizzes", status, json=body))

    def start(self, quiz_id: str, status: int = 201, **body: Any) -> dict[str, Any]:
        return dict(self.ok("POST", f"/quizzes/{quiz_id}/attempts", status, json=body))

    def put_answer(self, quiz_id: str, attempt_id: str, question_id: str, **body: Any) -> requests.Response:
        return self.call("PUT", f"/quizzes/{quiz_id}/attempts/{attempt_id}/answers/{question_id}", json=body)

    def submit(self, quiz_id: str, attempt_id: str) -> requests.Response:
        return self.call("POST", f"/quizzes/{quiz_id}/attempts/{attempt_id}/submit")

    def wait_quiz(self, quiz_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            quiz: dict[str, Any] = self.ok("GET", f"/quizzes/{quiz_id}")
            if quiz["status"] in ("ready", "failed"):
                return quiz
            assert time.monotonic() < deadline, f"quiz still {quiz['status']}: {quiz}"
            time.sleep(0.2)


@pytest.fixture
def client_for(gateway_url: str) -> Callable[[User], Client]:
    return lambda user: Client(gateway_url, user, requests.Session())


@pytest.fixture
def client(client_for: Callable[[User], Client], user: User) -> Client:
    return client_for(user)


def stored_quiz(db: Any, uid: str, quiz_id: str) -> dict[str, Any]:
    return db.collection("users").document(uid).collection("quizzes").document(quiz_id).get().to_dict() or {}


def stored_attempt(db: Any, uid: str, quiz_id: str, attempt_id: str) -> dict[str, Any]:
    ref = db.collection("users").document(uid).collection("quizzes").document(quiz_id)
    return ref.collection("attempts").document(attempt_id).get().to_dict() or {}


def key_of(db: Any, uid: str, quiz_id: str) -> dict[str, dict[str, Any]]:
    return {q["id"]: q for q in stored_quiz(db, uid, quiz_id)["questions"]}


def right_body(q: dict[str, Any]) -> dict[str, Any]:
    return {"text": q["answer"]} if q["kind"] == "short_answer" else {"optionId": q["answer"]}


def wrong_body(q: dict[str, Any]) -> dict[str, Any]:
    if q["kind"] == "short_answer":
        return {"text": "certainly not this"}
    return {"optionId": next(o["id"] for o in q["options"] if o["id"] != q["answer"])}


# the OpenAI wire-format server and providers pointed at it (tests/e2e/ai's fixtures)
from tests.e2e.ai.conftest import openai_for, wire  # noqa: E402, F401
