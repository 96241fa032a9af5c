"""The stack's storage (``serve-storage``: gcp-storage-emulator behind local/storage_front.py)
alone: signed URLs checked with the signer's public key, the JSON API's ifGenerationMatch, and
a URL's expiry judged at a chosen instant, and the bucket's CORS as GCS applies it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from stack import keys
from storage_front import Refusal, check_signed, signers_from_args

from tests.stack.conftest import BUCKET, LOOPBACK, PYTHON, STACK, free_port, listening_addresses, wait_until

APP = "http://app.test:8000"  # an origin of the bucket's CORS configuration


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    key_file, public = keys.upload_signer(tmp_path / "keys")
    port = free_port()
    log_path = tmp_path / "storage.log"
    log = log_path.open("wb")
    argv = [PYTHON, str(STACK), "serve-storage", "--port", str(port), "--in-memory", "--bucket", BUCKET]
    argv += ["--cors-origin", APP, "--cors-origin", "http://127.0.0.1:5173"]
    process = subprocess.Popen(
        [*argv, "--signer", f"{keys.UPLOAD_SIGNER}={public}"], stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path
    )
    try:
        wait_until(lambda: "storage listening" in log_path.read_text() or process.poll() is not None, 30, "storage")
        assert process.poll() is None, log_path.read_text()
        yield f"http://127.0.0.1:{port}", key_file, public
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def signed(url: str, key_file: Path, name: str, size: int, **kw: Any) -> str:
    from google.cloud import storage as gcs
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_file(str(key_file))
    blob = gcs.Client(project="demo-aksio", credentials=credentials).bucket(BUCKET).blob(name)
    headers = {"x-goog-content-length-range": f"{size},{size}", "x-goog-if-generation-match": "0"}
    return str(
        blob.generate_signed_url(
            version="v4",
            method="PUT",
            expiration=kw.pop("expiration", timedelta(minutes=15)),
            content_type="text/plain",
            headers=headers,
            api_access_endpoint=url,
            **kw,
        )
    )


def test_listens_on_loopback_and_passes_unsigned_json_api_calls_through(storage: tuple[str, Path, Path]) -> None:
    url, _, _ = storage
    assert listening_addresses(int(url.rsplit(":", 1)[1])) <= LOOPBACK
    assert requests.get(f"{url}/storage/v1/b/{BUCKET}", timeout=5).json()["name"] == BUCKET


def test_json_api_if_generation_match(storage: tuple[str, Path, Path]) -> None:
    url, _, _ = storage
    upload = f"{url}/upload/storage/v1/b/{BUCKET}/o"
    params = {"uploadType": "media", "name": "j/a.txt", "ifGenerationMatch": "0"}
    first = requests.post(upload, params=params, data=b"one", timeout=5)
    second = requests.post(upload, params=params, data=b"two", timeout=5)
    assert (first.status_code, second.status_code) == (200, 412)
    assert "<Code>PreconditionFailed</Code>" in second.text
    generation = first.json()["generation"]
    replace = requests.post(upload, params=params | {"ifGenerationMatch": generation}, data=b"two", timeout=5)
    assert replace.status_code == 200


def test_a_url_is_judged_by_its_date_and_expiry_and_the_signers_key(storage: tuple[str, Path, Path]) -> None:
    from google.oauth2 import service_account

    url, key_file, public = storage
    put_url = signed(url, key_file, "k/x.txt", 5)
    parts = urlsplit(put_url)
    raw = f"{parts.path}?{parts.query}"
    headers = requests.structures.CaseInsensitiveDict(
        {"Content-Type": "text/plain", "x-goog-content-length-range": "5,5", "x-goog-if-generation-match": "0"}
    )
    headers["host"] = parts.netloc

    class Headers(dict[str, str]):  # what BaseHTTPRequestHandler gives: get / get_all by any case
        def get_all(self, name: str) -> list[str] | None:
            value = headers.get(name)
            return None if value is None else [value]

    keys_ = signers_from_args([f"{keys.UPLOAD_SIGNER}={public}"])
    now = datetime.now(UTC).timestamp()
    check_signed("PUT", raw, Headers(), keys_, now=now)  # valid now
    check_signed("PUT", raw, Headers(), keys_, now=now + 890)  # and until its 900 s are over
    with pytest.raises(Refusal) as late:
        check_signed("PUT", raw, Headers(), keys_, now=now + 905)
    assert (late.value.status, late.value.code) == (400, "ExpiredToken")
    # the same key under another account's name: the front knows no key for that account
    info = json.loads(key_file.read_text()) | {"client_email": "someone@demo-aksio.iam.gserviceaccount.com"}
    other = service_account.Credentials.from_service_account_info(info)
    put_other = urlsplit(signed(url, key_file, "k/y.txt", 5, credentials=other))
    with pytest.raises(Refusal) as unknown:
        check_signed("PUT", f"{put_other.path}?{put_other.query}", Headers(), keys_, now=now)
    assert (unknown.value.status, unknown.value.code) == (403, "SignatureDoesNotMatch")
    body = requests.put(put_url, data=b"hello", headers=dict(headers) | {"host": parts.netloc}, timeout=5)
    assert body.status_code == 200, body.text


# What a browser sends before a signed PUT: the headers the URL signs (Content-Type is not a
# "simple" one for a PDF), lower-cased and sorted, as Chromium lists them.
SIGNED_PUT_HEADERS = "content-type,x-goog-content-length-range,x-goog-if-generation-match"
CORS_RULE = json.loads((Path(STACK).parent.parent / "terraform" / "modules" / "storage" / "cors.json").read_text())


def preflight(url: str, origin: str, method: str = "PUT", headers: str = SIGNED_PUT_HEADERS) -> requests.Response:
    asked = {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}
    return requests.options(url, headers=asked, timeout=5)


def test_a_preflight_of_a_signed_put_from_an_allowed_origin_is_allowed(storage: tuple[str, Path, Path]) -> None:
    url, key_file, _ = storage
    answer = preflight(signed(url, key_file, "c/a.txt", 5), APP)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == APP
    assert "PUT" in answer.headers["Access-Control-Allow-Methods"].split(",")
    allowed = {h.lower() for h in answer.headers["Access-Control-Allow-Headers"].split(",")}
    assert set(SIGNED_PUT_HEADERS.split(",")) <= allowed
    assert answer.headers["Access-Control-Max-Age"] == str(CORS_RULE["maxAgeSeconds"])
    # the other origin given, and a preflight asking for no header at all
    assert preflight(signed(url, key_file, "c/a.txt", 5), "http://127.0.0.1:5173", "GET", "").status_code == 200


@pytest.mark.parametrize(
    ("origin", "method", "headers"),
    [
        ("http://evil.test", "PUT", SIGNED_PUT_HEADERS),  # an origin not configured
        ("http://app.test:8001", "PUT", SIGNED_PUT_HEADERS),  # another port is another origin
        (APP, "DELETE", ""),  # a method not in the rule
        (APP, "PUT", f"{SIGNED_PUT_HEADERS},x-goog-acl"),  # a header not in the rule
    ],
)
def test_a_preflight_outside_the_rule_is_refused(
    storage: tuple[str, Path, Path], origin: str, method: str, headers: str
) -> None:
    url, key_file, _ = storage
    answer = preflight(signed(url, key_file, "c/b.txt", 5), origin, method, headers)
    assert answer.status_code == 403
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_answers_to_an_allowed_origin_carry_cors_headers_refusals_included(storage: tuple[str, Path, Path]) -> None:
    url, key_file, _ = storage
    put_url = signed(url, key_file, "c/c.txt", 5)
    headers = {"Content-Type": "text/plain", "x-goog-content-length-range": "5,5", "x-goog-if-generation-match": "0"}

    def put(body: bytes, origin: str, target: str = put_url) -> requests.Response:
        return requests.put(target, data=body, headers={**headers, "Origin": origin}, timeout=10)

    too_large = put(b"123456", APP)
    assert (too_large.status_code, too_large.headers.get("Access-Control-Allow-Origin")) == (400, APP)
    assert "<Code>EntityTooLarge</Code>" in too_large.text
    tampered = put(b"12345", APP, put_url[:-1] + ("0" if put_url[-1] != "0" else "1"))
    assert (tampered.status_code, tampered.headers.get("Access-Control-Allow-Origin")) == (403, APP)
    assert "<Code>SignatureDoesNotMatch</Code>" in tampered.text
    stored = put(b"12345", APP)
    assert stored.status_code == 200, stored.text
    assert stored.headers["Access-Control-Allow-Origin"] == APP
    assert stored.headers["Vary"] == "Origin"
    assert stored.headers["Access-Control-Expose-Headers"].split(",") == CORS_RULE["responseHeader"]
    again = put(b"12345", "http://evil.test")  # processed (412: it exists), but not shared with that origin
    assert again.status_code == 412
    assert "Access-Control-Allow-Origin" not in again.headers
    assert again.headers["Vary"] == "Origin"
