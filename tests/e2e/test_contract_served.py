"""The committed API contract is served by the deployed functions (health), not only locally."""

from __future__ import annotations

import json

import pytest
import requests

from aksio.openapi import DOCUMENT

pytestmark = pytest.mark.stack


def test_health_serves_the_committed_openapi_document(gateway_url: str) -> None:
    r = requests.get(f"{gateway_url}/health/openapi.json", timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == json.loads(DOCUMENT.read_text())
    assert r.json()["servers"][0]["url"] == "https://{region}-{project}.cloudfunctions.net"
    assert "/health/openapi.json" in r.json()["paths"]
