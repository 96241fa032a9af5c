"""Firebase Cloud Messaging, HTTP v1 (``POST {base}/v1/projects/{project}/messages:send``).

One send is one request with a bounded timeout (:data:`aksio.deadlines.FCM_TIMEOUT_S`). What
FCM answers decides the outcome:

- ``sent``: 200;
- ``gone``: the token is dead (404 ``UNREGISTERED``, 403 ``SENDER_ID_MISMATCH``, or 400
  ``INVALID_ARGUMENT`` naming the token): the caller removes the device;
- ``retry``: 429 (``QUOTA_EXCEEDED``, with ``Retry-After``), 5xx, a timeout or a refused
  connection: :func:`send` retries with backoff a few times within its ``budget_s``, then
  answers ``retry`` so the caller leaves it for the next run;
- ``failed``: anything else (our bug: a malformed message), logged, not retried.

In production the request carries an OAuth token of the function's service account (scope
``firebase.messaging``); against a local server (``FCM_API_BASE``) outside production, a
placeholder bearer token.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from aksio import deadlines, log
from aksio.config import get_config

_log = log.get_logger("aksio.fcm")
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GONE_CODES = {"UNREGISTERED", "SENDER_ID_MISMATCH"}  # tokens this project can never reach again
ATTEMPTS = 3
_lock = threading.Lock()
_session: Any = None


@dataclass(frozen=True)
class Outcome:
    result: str  # sent | gone | retry | failed
    status: int = 0
    code: str = ""


def _http() -> Any:
    """A requests session: authorized with the service account in production."""
    global _session
    with _lock:
        if _session is None:
            cfg = get_config()
            if cfg.is_production:
                import google.auth
                from google.auth.transport.requests import AuthorizedSession

                credentials, _ = google.auth.default(scopes=[SCOPE])
                _session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
            else:
                import requests

                _session = requests.Session()
                _session.headers["Authorization"] = "Bearer local-fcm"
    return _session


def reset() -> None:
    """Forget the session (tests that change the configuration)."""
    global _session
    _session = None


def _error_code(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ""
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("errorCode"):
            return str(detail["errorCode"])
    return str(error.get("status") or "")


def classify(status: int, body: Any) -> Outcome:
    """What an FCM answer means for the device (pure)."""
    code = _error_code(body)
    if status == 200:
        return Outcome("sent", status)
    if code in GONE_CODES or (status == 400 and code == "INVALID_ARGUMENT" and _about_token(body)):
        return Outcome("gone", status, code)
    if status == 429 or status >= 500:
        return Outcome("retry", status, code)
    return Outcome("failed", status, code)


def _about_token(body: Any) -> bool:
    message = str(((body or {}).get("error") or {}).get("message") or "").lower()
    return "token" in message or "registration" in message


def send(token: str, title: str, text: str, data: dict[str, str], *, budget_s: float = 12.0) -> Outcome:
    """Send one notification to one device; retries transient failures within ``budget_s``."""
    import requests

    cfg = get_config()
    url = f"{cfg.fcm_api_base.rstrip('/')}/v1/projects/{cfg.project}/messages:send"
    message = {"message": {"token": token, "notification": {"title": title, "body": text}, "data": data}}
    deadline = time.monotonic() + budget_s
    outcome = Outcome("retry")
    for attempt in range(ATTEMPTS):
        retry_after = 0.5 * 2**attempt
        try:
            response = _http().post(url, json=message, timeout=deadlines.FCM_TIMEOUT_S)
            body = response.json() if response.content else {}
            outcome = classify(response.status_code, body)
            retry_after = max(retry_after, float(response.headers.get("Retry-After") or 0))
        except (requests.Timeout, requests.ConnectionError, ValueError) as exc:
            outcome = Outcome("retry", 0, type(exc).__name__)
        if outcome.result != "retry" or time.monotonic() + retry_after >= deadline:
            break
        time.sleep(retry_after)
    if outcome.result == "failed":
        _log.error("fcm refused a message: %s %s", outcome.status, outcome.code)
    return outcome
