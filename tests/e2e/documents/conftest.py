"""Helpers of the documents e2e tests: a signed-in client that uploads through the signed
URL, waits for the bridge's event to be processed, and posts CloudEvents itself."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.conftest import ApiClient, User, need_env

TERMINAL = ("ready", "failed")


class Client(ApiClient):
    def create(self, filename: str, content_type: str, size: int) -> dict[str, Any]:
        body = {"filename": filename, "contentType": content_type, "sizeBytes": size}
        created: dict[str, Any] = self.ok("POST", "/create-upload", 201, json=body)
        return created

    def put(self, upload: dict[str, Any], data: bytes) -> requests.Response:
        return requests.put(upload["url"], data=data, headers=upload["headers"], timeout=120)

    def upload(self, filename: str, content_type: str, data: bytes, declared: int | None = None) -> str:
        created = self.create(filename, content_type, declared or max(len(data), 1))
        response = self.put(created["upload"], data)
        assert response.status_code == 200, response.text
        return str(created["document"]["id"])

    def document(self, doc_id: str) -> dict[str, Any]:
        doc: dict[str, Any] = self.ok("GET", f"/documents/{doc_id}")
        return doc

    def wait(self, doc_id: str, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            doc = self.document(doc_id)
            if doc["status"] in TERMINAL:
                return doc
            assert time.monotonic() < deadline, f"document still {doc['status']} after {timeout} s: {doc}"
            time.sleep(0.2)


@pytest.fixture
def client_for(gateway_url: str) -> Callable[[User], Client]:
    return lambda user: Client(gateway_url, user, requests.Session())


@pytest.fixture
def client(client_for: Callable[[User], Client], user: User) -> Client:
    return client_for(user)


class Storage:
    """The storage emulator's JSON API and the bucket, for what the browser cannot do."""

    def __init__(self) -> None:
        env = need_env("STORAGE_EMULATOR_HOST", "UPLOAD_BUCKET")
        self.url = env["STORAGE_EMULATOR_HOST"].rstrip("/")
        self.bucket = env["UPLOAD_BUCKET"]

    def obj(self, name: str) -> dict[str, Any] | None:
        response = requests.get(f"{self.url}/storage/v1/b/{self.bucket}/o/{quote(name, safe='')}", timeout=10)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def write(self, name: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        response = requests.post(
            f"{self.url}/upload/storage/v1/b/{self.bucket}/o",
            params={"uploadType": "media", "name": name},
            data=data,
            headers={"Content-Type": content_type},
            timeout=30,
        )
        response.raise_for_status()


@pytest.fixture(scope="session")
def storage() -> Storage:
    return Storage()


def post_event(gateway_url: str, obj: dict[str, Any], when: datetime | None = None) -> requests.Response:
    """POST the finalized CloudEvent of ``obj`` to process-upload, as the bridge (Eventarc) does."""
    from bridge import cloud_event_headers

    headers = cloud_event_headers(obj)
    if when is not None:
        headers["ce-time"] = when.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return requests.post(f"{gateway_url}/process-upload", data=json.dumps(obj), headers=headers, timeout=120)


def wait_for_bridge(storage: Storage, name: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        obj = storage.obj(name)
        if obj is not None:
            return obj
        assert time.monotonic() < deadline, f"object {name} never appeared"
        time.sleep(0.2)
