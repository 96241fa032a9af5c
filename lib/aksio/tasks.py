"""Cloud Tasks: enqueue a step of a generation job, and check who calls ``run-generation``.

Where a task goes and how it authenticates:

- locally (the stack): ``$GATEWAY_URL/run-generation`` with the header
  ``X-Aksio-Task-Secret: $TASKS_AUTH_SECRET`` (the Tasks emulator sends no OIDC token);
- in production: ``$RUN_GENERATION_URL`` with an OIDC token Cloud Tasks mints for
  ``$TASKS_SERVICE_ACCOUNT`` with that URL as audience (terraform sets both); the
  service is deployed without public access, so IAM checks the token before the request
  arrives, and :func:`verify_task_caller` checks audience and email once more.

Task names are deterministic per job step, so enqueuing the same step twice creates one
task (``AlreadyExists`` is success). The local emulator accepts a name twice, which is
exactly the duplicate delivery the handler must tolerate anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aksio import errors, log
from aksio.config import get_config

if TYPE_CHECKING:  # pragma: no cover
    from flask import Request

_log = log.get_logger("aksio.tasks")
SECRET_HEADER = "X-Aksio-Task-Secret"  # noqa: S105 - a header name, not a secret


def queue_path() -> str:
    cfg = get_config()
    return f"projects/{cfg.project}/locations/{cfg.tasks_location}/queues/{cfg.tasks_queue}"


def target_url() -> str:
    cfg = get_config()
    url = cfg.run_generation_url
    if url:
        return url
    gateway = cfg.gateway_url
    if gateway:
        return gateway.rstrip("/") + "/run-generation"
    raise RuntimeError("set RUN_GENERATION_URL (production) or GATEWAY_URL (local) to enqueue generation steps")


def task_id(uid: str, job_id: str, step: int, attempt: int = 0, kind: str = "cards") -> str:
    """A task name for one step of one job: the same step always gets the same name."""
    digest = hashlib.sha256(f"{uid}/{job_id}".encode()).hexdigest()[:16]
    suffix = f"-r{attempt}" if attempt else ""
    prefix = "gen" if kind == "cards" else kind
    return f"{prefix}-{digest}-{job_id[:40]}-s{step}{suffix}"


def build_task(
    uid: str, job_id: str, step: int, *, delay_seconds: float = 0, attempt: int = 0, kind: str = "cards"
) -> dict[str, Any]:
    """A ``run-generation`` task; ``kind`` names the job (``cards``, or ``quiz``: a step of a
    quiz made from documents, :mod:`aksio.quizzes.jobs`)."""
    fields: dict[str, Any] = {"uid": uid, "jobId": job_id, "step": step}
    if kind != "cards":
        fields["kind"] = kind
    body = json.dumps(fields).encode()
    request: dict[str, Any] = {
        "http_method": "POST",
        "url": target_url(),
        "headers": {"Content-Type": "application/json"},
        "body": body,
    }
    secret = get_config().tasks_auth_secret
    if secret and not get_config().is_production:
        request["headers"][SECRET_HEADER] = secret
    account = get_config().tasks_service_account
    if account:
        request["oidc_token"] = {"service_account_email": account, "audience": _audience()}
    task: dict[str, Any] = {
        "name": f"{queue_path()}/tasks/{task_id(uid, job_id, step, attempt, kind)}",
        "http_request": request,
    }
    if delay_seconds > 0:
        from google.protobuf import timestamp_pb2

        ts = timestamp_pb2.Timestamp()
        ts.FromDatetime(datetime.now(UTC) + timedelta(seconds=delay_seconds))
        task["schedule_time"] = ts
    return task


def enqueue_step(
    uid: str, job_id: str, step: int, *, delay_seconds: float = 0, attempt: int = 0, kind: str = "cards"
) -> bool:
    """Enqueue ``step`` of the job; False when a task of that name already existed."""
    from google.api_core import exceptions as gexc

    from aksio import deadlines
    from aksio.clients import tasks_client

    task = build_task(uid, job_id, step, delay_seconds=delay_seconds, attempt=attempt, kind=kind)
    try:
        tasks_client().create_task(
            parent=queue_path(),
            task=task,  # type: ignore[arg-type]
            timeout=deadlines.TASKS_TIMEOUT_S,
            retry=deadlines.tasks_retry(),
        )
    except gexc.AlreadyExists:
        _log.info("task already enqueued", extra={"jobId": job_id, "step": step})
        return False
    return True


def _audience() -> str:
    cfg = get_config()
    return cfg.run_generation_audience or cfg.run_generation_url or target_url()


def verify_task_caller(request: Request) -> str:
    """Whether this request comes from our queue; returns how it was authenticated
    (``secret`` or ``oidc``), else raises 401/403. Never open: with neither a shared
    secret (local) nor a service account (production) configured, every call is refused."""
    cfg = get_config()
    return verify_caller(request, account=cfg.tasks_service_account, audience=_audience, what="generation steps")


def verify_scheduler_caller(request: Request) -> str:
    """The same for a Cloud Scheduler job (its OIDC identity, the scheduled function's URL)."""
    cfg = get_config()

    def audience() -> str:
        if not cfg.send_reminders_url:
            raise errors.Unauthenticated("No scheduler audience is configured.", code="task_auth_required")
        return cfg.send_reminders_url

    return verify_caller(request, account=cfg.scheduler_service_account, audience=audience, what="scheduled jobs")


def verify_caller(request: Request, *, account: str | None, audience: Any, what: str) -> str:
    """A caller authenticated by the local shared secret or by an OIDC token of ``account``
    for ``audience()``; 401/403 otherwise."""
    cfg = get_config()
    secret = cfg.tasks_auth_secret
    sent = request.headers.get(SECRET_HEADER)
    if secret and not cfg.is_production and sent is not None:
        if hmac.compare_digest(sent.encode(), secret.encode()):
            return "secret"
        raise errors.Unauthenticated("Bad task secret.", code="bad_task_secret")
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and account:
        claims = _verify_oidc(header[7:].strip(), audience())
        if claims.get("email") != account or not claims.get("email_verified", False):
            raise errors.PermissionDenied(f"This caller may not run {what}.", code="task_caller_denied")
        return "oidc"
    raise errors.Unauthenticated(f"Only our own services may run {what}.", code="task_auth_required")


_REMOVED = "SIGNATURE_REMOVED_BY_GOOGLE"
_ISSUERS = ("https://accounts.google.com", "accounts.google.com")


def _verify_oidc(token: str, audience: str) -> dict[str, Any]:
    """The token's claims, checked. Behind Cloud Run's IAM check (the service is deployed
    private) the token arrives with its signature replaced by ``SIGNATURE_REMOVED_BY_GOOGLE``:
    IAM verified it already, so only its claims (issuer, audience, expiry) are checked here,
    and only in production. A token with its signature is verified in full."""
    parts = token.split(".")
    if len(parts) == 3 and parts[2] == _REMOVED:
        if not get_config().is_production:
            raise errors.Unauthenticated("Invalid task token.", code="bad_task_token")
        return _stripped_claims(parts[1], audience)
    return _verify_signed(token, audience)


def _stripped_claims(payload: str, audience: str) -> dict[str, Any]:
    import base64
    import time

    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        raise errors.Unauthenticated("Invalid task token.", code="bad_task_token") from None
    if (
        not isinstance(claims, dict)
        or claims.get("iss") not in _ISSUERS
        or claims.get("aud") != audience
        or float(claims.get("exp") or 0) < time.time() - 60
    ):
        raise errors.Unauthenticated("Invalid task token.", code="bad_task_token")
    return claims


def _verify_signed(token: str, audience: str) -> dict[str, Any]:
    from google.auth import exceptions as gauth_exc
    from google.auth.transport import requests as gauth_requests
    from google.oauth2 import id_token

    try:
        claims: dict[str, Any] = id_token.verify_oauth2_token(  # type: ignore[no-untyped-call]
            token, gauth_requests.Request(), audience=audience
        )
    except (ValueError, gauth_exc.GoogleAuthError):
        raise errors.Unauthenticated("Invalid task token.", code="bad_task_token") from None
    return claims
