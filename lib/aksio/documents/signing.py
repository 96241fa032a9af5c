"""V4 signed PUT URLs for uploads straight from the browser to Cloud Storage.

The URL is bound to the method, the object, the content type and the header
``x-goog-content-length-range: 0,<cap>`` (Storage refuses a body outside that range), and
expires after 15 minutes. The client must send both headers exactly as returned.

Production signs through the IAM Credentials ``signBlob`` API with the runtime service
account (no key file): ``generate_signed_url(service_account_email=..., access_token=...)``;
the account needs ``roles/iam.serviceAccountTokenCreator`` on itself. Locally
(``STORAGE_EMULATOR_HOST`` set) an RSA key generated once per instance signs, and the URL
points at the emulator (which does not check signatures) so a test can PUT to it.
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
_lock = threading.Lock()


@dataclass(frozen=True)
class SignedUpload:
    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime


@lru_cache(maxsize=1)
def _local_credentials() -> Any:
    """Service-account credentials around an RSA key made in-process (local stack only)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.oauth2 import service_account

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
    bucket: Any, object_path: str, content_type: str, max_bytes: int, now: datetime | None = None
) -> SignedUpload:
    """A V4 signed PUT URL for ``object_path`` in ``bucket`` (a google-cloud-storage Bucket)."""
    now = now or datetime.now(UTC)
    headers = {"Content-Type": content_type, LENGTH_RANGE_HEADER: f"0,{max_bytes}"}
    blob = bucket.blob(object_path)
    kw: dict[str, Any] = {
        "version": "v4",
        "method": "PUT",
        "expiration": EXPIRY,
        "content_type": content_type,
        "headers": {LENGTH_RANGE_HEADER: headers[LENGTH_RANGE_HEADER]},
    }
    emulator = get_config().storage_emulator_host
    if emulator:
        endpoint = emulator if emulator.startswith("http") else f"http://{emulator}"
        kw |= {"credentials": _local_credentials(), "api_access_endpoint": endpoint.rstrip("/")}
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
        kw |= {"credentials": _local_credentials(), "api_access_endpoint": endpoint.rstrip("/")}
    else:
        kw |= _runtime_signer()
    return str(bucket.blob(object_path).generate_signed_url(**kw))
