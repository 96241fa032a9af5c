"""The tutor and the usage counters under contention: a transaction that keeps losing (the
Firestore emulator's fault injection, ``tests.conftest.Aborts``) answers 503 ``contention``
with ``Retry-After`` (streamed: an ``error`` event with status 503), never a 500, and writes
nothing; with the fault lifted the same request goes through."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from aksio import errors, usage
from tests.conftest import Aborts
from tests.e2e.ai.conftest import Client

pytestmark = pytest.mark.stack


def contended(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "contention"
    assert int(response.headers["Retry-After"]) >= 1


def test_the_tutor_quota_under_contention(client: Client, firestore_db: Any, aborts: Aborts) -> None:
    uid = client.user.uid
    today = firestore_db.document(f"users/{uid}/usage/{usage.period_key('day', datetime.now(UTC))}")
    aborts.on(f"users/{uid}/usage")
    contended(client.call("POST", "/chat-reply", json={"message": "What is ATP?"}))
    aborts.off(f"users/{uid}/usage")
    assert not today.get().exists  # nothing counted
    assert client.ok("GET", "/chat-reply")["chats"] == []  # nothing stored
    reply = client.ok("POST", "/chat-reply", json={"message": "What is ATP?"})
    assert client.ok("GET", f"/chat-reply/{reply['chatId']}")["messageCount"] == 2
    assert today.get().to_dict()["tutorMessages"] == 1


def test_saving_an_answer_under_contention(client: Client, aborts: Aborts) -> None:
    chat = client.ok("POST", "/chat-reply", json={"message": "What is ATP?"})["chatId"]
    question = {"chatId": chat, "message": "And what is NADH?"}
    aborts.on(f"users/{client.user.uid}/chats/{chat}")
    contended(client.call("POST", "/chat-reply", json=question))
    streamed = client.call("POST", "/chat-reply", json=question, headers={"Accept": "text/event-stream"}, stream=True)
    assert streamed.status_code == 200  # the stream starts once every check has passed
    events = [json.loads(line[6:]) for line in streamed.iter_lines(decode_unicode=True) if line.startswith("data: ")]
    assert (events[-1]["code"], events[-1]["status"]) == ("contention", 503)
    aborts.off(f"users/{client.user.uid}/chats/{chat}")
    assert client.ok("GET", f"/chat-reply/{chat}")["messageCount"] == 2  # neither answer was stored
    assert len(client.ok("GET", f"/chat-reply/{chat}/messages")["messages"]) == 2
    client.ok("POST", "/chat-reply", json=question)
    assert client.ok("GET", f"/chat-reply/{chat}")["messageCount"] == 4


def test_charge_and_refund_under_contention(client: Client, firestore_db: Any, aborts: Aborts) -> None:
    uid = client.user.uid
    now = datetime.now(UTC)
    month = firestore_db.document(f"users/{uid}/usage/{usage.period_key('month', now)}")
    assert usage.charge(firestore_db, uid, usage.GENERATIONS, now) == 1
    aborts.on(f"users/{uid}/usage")
    with pytest.raises(errors.Contention):
        usage.charge(firestore_db, uid, usage.GENERATIONS, now)
    with pytest.raises(errors.Contention):
        usage.refund(firestore_db, uid, usage.GENERATIONS, now)
    aborts.off(f"users/{uid}/usage")
    assert month.get().to_dict()["generations"] == 1
    usage.refund(firestore_db, uid, usage.GENERATIONS, now)
    assert month.get().to_dict()["generations"] == 0
