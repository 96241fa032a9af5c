"""V4 signed PUT URLs for uploads straight from the browser to Cloud Storage.

The URL is bound to the method, the object, the content type, the declared size
(``x-goog-content-length-range: <size>,<size>``: Storage refuses a body of any other length
with 400) and ``x-goog-if-generation-match: 0`` (the object must not exist yet: a second PUT
of the URL is a 412, so a URL cannot be replayed to overwrite what was uploaded and have it
processed again), and expires after 15 minutes. The client must send the three headers
exactly as returned (they are signed: another value is a 403).

Production signs through the IAM Credentials ``signBlob`` API with the runtime service
account (no key file): ``generate_signed_url(service_account_email=..., access_token=...)``;
the account needs ``roles/iam.serviceAccountTokenCreator`` on itself. Locally
(``STORAGE_EMULATOR_HOST`` set) the stack's upload signer key (``STORAGE_SIGNER_KEY_FILE``)
signs and the URL points at the stack's storage, whose front (``local/storage_front.py``)
checks signature, expiry, signed headers, length range and generation precondition with that
key's public half, as GCS does. Without a key file (no stack) a key made in-process signs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from aksio.config import get_config

EXPIRY = timedelta(minutes=15)
LENGTH_RANGE_HEADER = "x-goog-content-length-range"
GENERATION_MATCH_HEADER = "x-goog-if-generation-match"
_lock = threading.Lock()


@dataclass(frozen=True)
class SignedUpload:
    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime


@lru_cache(maxsize=2)
def _local_credentials(key_file: str | None) -> Any:
    """Service-account credentials of the stack's key file, else around an RSA key made
    in-process (emulator only)."""
    from google.oauth2 import service_account

    if key_file:
        return service_account.Credentials.from_service_account_file(key_file)  # type: ignore[no-untyped-call]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "client_email": "local-signer@demo-aksio.iam.gserviceaccount.com",
        "private_key": pem,
        "private_key_id": "local",
        "token_uri": "https://oauth2.googleapis.com/token",
        "project_id": "demo-aksio",
    }
    return service_account.Credentials.from_service_account_info(info)  # type: ignore[no-untyped-call]


def _runtime_signer() -> dict[str, Any]:
    """The runtime service account's email and a fresh access token (IAM signBlob signing)."""
    import google.auth
    from google.auth.transport.requests import Request

    with _lock:
        credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
        if not credentials.valid:
            credentials.refresh(Request())  # type: ignore[no-untyped-call]
        email = getattr(credentials, "service_account_email", None)
        if not email or email == "default":
            # Compute/Cloud Run credentials learn their email from the metadata server on refresh.
            credentials.refresh(Request())  # type: ignore[no-untyped-call]
            email = getattr(credentials, "service_account_email", None)
    return {"service_account_email": email, "access_token": credentials.token}


def sign_put(
    bucket: Any, object_path: str, content_type: str, size_bytes: int, now: datetime | None = None
) -> SignedUpload:
    """A V4 signed PUT URL for ``object_path`` in ``bucket`` (a google-cloud-storage Bucket),
    for a body of exactly ``size_bytes`` that creates the object (never overwrites it)."""
    now = now or datetime.now(UTC)
    headers = {
        "Content-Type": content_type,
        LENGTH_RANGE_HEADER: f"{size_bytes},{size_bytes}",
        GENERATION_MATCH_HEADER: "0",
    }
    blob = bucket.blob(object_path)
    kw: dict[str, Any] = {
        "version": "v4",
        "method": "PUT",
        "expiration": EXPIRY,
        "content_type": content_type,
        "headers": {k: v for k, v in headers.items() if k != "Content-Type"},
    }
    emulator = get_config().storage_emulator_host
    if emulator:
        endpoint = emulator if emulator.startswith("http") else f"http://{emulator}"
        credentials = _local_credentials(get_config().storage_signer_key_file)
        kw |= {"credentials": credentials, "api_access_endpoint": endpoint.rstrip("/")}
    else:
        kw |= _runtime_signer()
    url = blob.generate_signed_url(**kw)
    return SignedUpload(url=url, method="PUT", headers=headers, expires_at=now + EXPIRY)


def sign_get(bucket: Any, object_path: str, expiry: timedelta, filename: str | None = None) -> str:
    """A V4 signed GET URL for ``object_path`` valid for ``expiry`` (a download; with
    ``filename``, the browser saves it under that name)."""
    kw: dict[str, Any] = {"version": "v4", "method": "GET", "expiration": expiry}
    if filename:
        kw["response_disposition"] = f'attachment; filename="{filename}"'
    emulator = get_config().storage_emulator_host
    if emulator:
        endpoint = emulator if emulator.startswith("http") else f"http://{emulator}"
        credentials = _local_credentials(get_config().storage_signer_key_file)
        kw |= {"credentials": credentials, "api_access_endpoint": endpoint.rstrip("/")}
    else:
        kw |= _runtime_signer()
    return str(bucket.blob(object_path).generate_signed_url(**kw))
