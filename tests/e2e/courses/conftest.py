"""Fixtures of the courses e2e tests: a signed-in gateway client that uploads documents
(the AI tests' client) and the emulator's operation counters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.conftest import User
from tests.e2e.ai.conftest import Client
from tests.e2e.study.conftest import Counters


class CourseClient(Client):
    def course(self, name: str = "Course", **body: Any) -> dict[str, Any]:
        created: dict[str, Any] = self.ok("POST", "/courses", 201, json={"name": name} | body)
        return created

    def card(self, deck_id: str, front: str) -> str:
        body = self.ok("POST", "/cards", 201, json={"deckId": deck_id, "front": front, "back": "back"})
        return str(body["cards"][0]["id"])


@pytest.fixture
def client_for(gateway_url: str) -> Callable[[User], CourseClient]:
    return lambda user: CourseClient(gateway_url, user, requests.Session())


@pytest.fixture
def client(client_for: Callable[[User], CourseClient], user: User) -> CourseClient:
    return client_for(user)


@pytest.fixture
def counters(firestore_db: Any) -> Counters:
    return Counters()
