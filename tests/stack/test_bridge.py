"""The Storage→Eventarc bridge against a real storage emulator and a real HTTP receiver."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from bridge import EVENT_TYPE, Bridge, event_id
from cloudevents.http import from_http

from tests.stack.conftest import BUCKET, Receiver, free_port


class Clock:
    """A clock the test moves by hand, so backoff is checked without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_bridge(storage_url: str, target: str, **kwargs: Any) -> Bridge:
    return Bridge(storage_url, BUCKET, f"{target}/process-upload", **kwargs)


def object_resource(storage_url: str, name: str) -> dict[str, Any]:
    response = requests.get(f"{storage_url}/storage/v1/b/{BUCKET}/o/{quote(name, safe='')}", timeout=5)
    response.raise_for_status()
    return dict(response.json())


def test_new_object_is_posted_as_an_eventarc_cloudevent(gcs: Any, storage_emulator: str, receiver: Receiver) -> None:
    name = "users/u1/documents/d1/notes.txt"
    gcs.blob(name).upload_from_string(b"hello", content_type="text/plain")
    bridge = make_bridge(storage_emulator, receiver.url)

    sent = bridge.scan_once()

    assert [(d.name, d.status) for d in sent] == [(name, 200)]
    [request] = receiver.requests
    resource = object_resource(storage_emulator, name)
    assert request.path == "/process-upload"
    assert request.headers["ce-specversion"] == "1.0"
    assert request.headers["ce-type"] == "google.cloud.storage.object.v1.finalized"
    assert request.headers["ce-source"] == f"//storage.googleapis.com/projects/_/buckets/{BUCKET}"
    assert request.headers["ce-subject"] == f"objects/{name}"
    assert request.headers["ce-id"] == event_id(BUCKET, name, resource["generation"])
    assert request.headers["ce-time"] == resource["updated"]
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert body == resource  # the object resource exactly as the JSON API returns it
    for key in ("name", "bucket", "generation", "metageneration", "contentType", "size", "md5Hash", "crc32c"):
        assert key in body, key
    assert body["contentType"] == "text/plain"
    assert body["size"] == "5"

    # functions-framework reads it as the CloudEvent a storage-triggered function receives.
    event = from_http(request.headers, request.body)
    assert event["type"] == EVENT_TYPE
    assert event["subject"] == f"objects/{name}"
    assert event.data["name"] == name

    assert bridge.scan_once() == []  # nothing new: nothing sent
    assert len(receiver.requests) == 1


def test_a_new_generation_of_the_same_name_is_sent_again(gcs: Any, storage_emulator: str, receiver: Receiver) -> None:
    bridge = make_bridge(storage_emulator, receiver.url)
    blob = gcs.blob("users/u1/documents/d2/slides.pdf")
    blob.upload_from_string(b"%PDF-1 one", content_type="application/pdf")
    first = bridge.scan_once()
    blob.upload_from_string(b"%PDF-1 two", content_type="application/pdf")
    second = bridge.scan_once()

    assert len(first) == len(second) == 1
    assert first[0].generation != second[0].generation
    assert first[0].id != second[0].id
    assert [r.json()["size"] for r in receiver.requests] == ["10", "10"]
    first_md5, second_md5 = (r.json()["md5Hash"] for r in receiver.requests)
    assert first_md5 != second_md5
    assert bridge.scan_once() == []


def test_server_errors_are_retried_with_backoff_and_the_same_id(
    gcs: Any, storage_emulator: str, receiver: Receiver
) -> None:
    gcs.blob("users/u1/documents/d3/a.txt").upload_from_string(b"a")
    receiver.script = [500, 503]
    clock = Clock()
    bridge = make_bridge(storage_emulator, receiver.url, clock=clock)

    assert [d.status for d in bridge.scan_once()] == [500]
    assert bridge.scan_once() == []  # not due yet: backoff 1 s
    clock.now += 1.0
    assert [d.status for d in bridge.scan_once()] == [503]
    clock.now += 1.0
    assert bridge.scan_once() == []  # backoff doubled: 2 s
    clock.now += 1.0
    assert [(d.status, d.attempt) for d in bridge.scan_once()] == [(200, 3)]
    clock.now += 100.0
    assert bridge.scan_once() == []
    assert bridge.pending == 0
    assert receiver.statuses() == [500, 503, 200]
    assert len({r.headers["ce-id"] for r in receiver.requests}) == 1


def test_a_client_error_is_not_retried(gcs: Any, storage_emulator: str, receiver: Receiver) -> None:
    gcs.blob("users/u1/documents/d4/bad.bin").upload_from_string(b"\x00")
    receiver.script = [400]
    clock = Clock()
    bridge = make_bridge(storage_emulator, receiver.url, clock=clock)

    assert [d.status for d in bridge.scan_once()] == [400]
    clock.now += 1000.0
    assert bridge.scan_once() == []
    assert bridge.pending == 0


def test_connection_errors_are_retried_then_given_up(gcs: Any, storage_emulator: str) -> None:
    gcs.blob("users/u1/documents/d5/a.txt").upload_from_string(b"a")
    clock = Clock()
    nobody = f"http://127.0.0.1:{free_port()}"
    bridge = make_bridge(storage_emulator, nobody, clock=clock, max_attempts=3, timeout=2)

    attempts = []
    for _ in range(6):
        attempts += bridge.scan_once()
        clock.now += 10.0
    assert [(d.attempt, d.status) for d in attempts] == [(1, None), (2, None), (3, None)]
    assert all(d.error and "ConnectionError" in d.error for d in attempts)
    assert bridge.pending == 0


def test_delivered_generations_survive_a_restart(
    gcs: Any, storage_emulator: str, receiver: Receiver, tmp_path: Path
) -> None:
    state = tmp_path / "bridge-state.json"
    gcs.blob("users/u1/documents/d6/one.txt").upload_from_string(b"1")
    assert len(make_bridge(storage_emulator, receiver.url, state_path=state).scan_once()) == 1

    restarted = make_bridge(storage_emulator, receiver.url, state_path=state)
    assert restarted.scan_once() == []
    gcs.blob("users/u1/documents/d6/two.txt").upload_from_string(b"2")
    assert [d.name for d in restarted.scan_once()] == ["users/u1/documents/d6/two.txt"]

    gcs.blob("users/u1/documents/d6/one.txt").delete()
    restarted.scan_once()
    assert set(json.loads(state.read_text())["seen"]) == {"users/u1/documents/d6/two.txt"}


def test_a_failed_delivery_is_not_remembered(
    gcs: Any, storage_emulator: str, receiver: Receiver, tmp_path: Path
) -> None:
    state = tmp_path / "bridge-state.json"
    gcs.blob("users/u1/documents/d7/a.txt").upload_from_string(b"a")
    receiver.script = [500]
    assert [d.status for d in make_bridge(storage_emulator, receiver.url, state_path=state).scan_once()] == [500]
    # The bridge stopped while the event waited for its retry: a new one sends it again.
    assert [d.status for d in make_bridge(storage_emulator, receiver.url, state_path=state).scan_once()] == [200]


@pytest.mark.parametrize("name", ['Vorlesung 3/Übung "A" 100%.pdf', "a b/c+d.txt"])
def test_names_outside_plain_ascii_are_percent_encoded_in_headers(
    gcs: Any, storage_emulator: str, receiver: Receiver, name: str
) -> None:
    gcs.blob(name).upload_from_string(b"x")
    make_bridge(storage_emulator, receiver.url).scan_once()

    [request] = receiver.requests
    subject = request.headers["ce-subject"]
    assert subject.isascii()
    assert " " not in subject
    assert '"' not in subject
    assert request.json()["name"] == name  # the body carries the name as is
