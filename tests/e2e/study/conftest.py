"""Helpers of the study e2e tests: a signed-in client of the gateway, and the emulator's
operation counters."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.conftest import ApiClient, User


class Client(ApiClient):
    def deck(self, name: str = "Deck") -> str:
        return str(self.ok("POST", "/decks", 201, json={"name": name})["id"])

    def card(self, deck_id: str, front: str | None = None, back: str = "back") -> str:
        front = front or f"front {uuid.uuid4().hex}"
        body = self.ok("POST", "/cards", 201, json={"deckId": deck_id, "front": front, "back": back})
        return str(body["cards"][0]["id"])

    def review(self, card_id: str, rating: object = 3, review_id: str | None = None, **extra: Any) -> requests.Response:
        body = {"cardId": card_id, "rating": rating, "reviewId": review_id or uuid.uuid4().hex} | extra
        return self.call("POST", "/review-card", json=body)


@pytest.fixture
def client_for(gateway_url: str) -> Callable[[User], Client]:
    return lambda user: Client(gateway_url, user, requests.Session())


@pytest.fixture
def client(client_for: Callable[[User], Client], user: User) -> Client:
    return client_for(user)


class Counters:
    """The emulator's billed operations (reads, writes, deletes) of the project."""

    def __init__(self) -> None:
        host = os.environ["FIRESTORE_EMULATOR_HOST"]
        project = os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCLOUD_PROJECT") or "demo-aksio"
        self.url = f"http://{host}/emulator/v1/projects/{project}:stats"

    def reset(self) -> None:
        requests.delete(self.url, timeout=10).raise_for_status()

    def read(self) -> dict[str, int]:
        data = requests.get(self.url, timeout=10).json()
        return {k: int(data.get(k, 0)) for k in ("reads", "writes", "deletes")}


@pytest.fixture
def counters(firestore_db: Any) -> Counters:
    return Counters()
