"""The upload bucket's CORS through the stack, as a browser at the web app's origin meets it:
the web app (served by the gateway) PUTs create-upload's signed URL to the storage, another
origin, so the browser first asks the bucket (a preflight) with the headers the URL signs."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.documents.conftest import Client
from tests.unit.documents import samples

pytestmark = pytest.mark.stack


def preflight(url: str, origin: str, headers: dict[str, str]) -> requests.Response:
    asked = ",".join(sorted(name.lower() for name in headers))  # what Chromium sends
    return requests.options(
        url,
        headers={"Origin": origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": asked},
        timeout=10,
    )


def test_the_web_apps_origin_may_put_a_signed_upload(client: Client, gateway_url: str) -> None:
    data = b"%PDF-1.4 not really, but the bucket does not look" * 4
    created = client.create("Notes.pdf", samples.PDF, len(data))
    upload = created["upload"]
    port = urlsplit(gateway_url).port
    for origin in (f"http://localhost:{port}", f"http://127.0.0.1:{port}", "http://localhost:5173"):
        allowed = preflight(upload["url"], origin, upload["headers"])
        assert allowed.status_code == 200, (origin, allowed.text)
        assert allowed.headers["Access-Control-Allow-Origin"] == origin
    refused = preflight(upload["url"], "http://localhost:1", upload["headers"])
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers

    origin = f"http://localhost:{port}"
    sent = {**upload["headers"], "Origin": origin}
    too_large = requests.put(upload["url"], data=data + b"!", headers=sent, timeout=30)
    assert too_large.status_code == 400
    assert too_large.headers["Access-Control-Allow-Origin"] == origin  # the page can read why
    stored = requests.put(upload["url"], data=data, headers=sent, timeout=30)
    assert stored.status_code == 200, stored.text
    assert stored.headers["Access-Control-Allow-Origin"] == origin
