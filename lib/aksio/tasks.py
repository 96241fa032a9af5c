"""Cloud Tasks and Cloud Scheduler callers: enqueue a task (a generation or quiz step with
:func:`enqueue_step`, a call of any task function with :func:`enqueue_call`), and check who
calls (:func:`verify_task_caller`, :func:`verify_function_caller`, :func:`verify_scheduled_caller`).

Where a task goes and how it authenticates, one path everywhere: ``$RUN_GENERATION_URL``
(production; locally ``$GATEWAY_URL/run-generation``) with an OIDC token Cloud Tasks mints
for ``$TASKS_SERVICE_ACCOUNT`` with that URL (or ``$RUN_GENERATION_AUDIENCE``) as audience.
:func:`verify_task_caller` checks it: signature against Google's certificates
(``$TASKS_OIDC_CERTS_URL``; locally the stack's Tasks emulator mints the tokens and serves
its certificates), issuer, audience, expiry, and that the email is the queue's account,
verified. In production the service is also deployed without public access, so IAM checks
the token first (and Cloud Run then hands it over with its signature removed: only its
claims are checked then, production only).

Other task functions (``optimize-fsrs``, ``account-jobs``) get the same OIDC token for their
own URL, ``$<NAME>_URL`` (terraform sets it on the functions that call them and on themselves;
locally ``$GATEWAY_URL/<name>``). Scheduler jobs carry the scheduler's OIDC identity; locally,
where the stack's scheduler mints none, its shared secret stands in (never in production).

Task names are deterministic per job step, so enqueuing the same step twice creates one
task (``AlreadyExists`` is success, as the local emulator answers too).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
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
    account = get_config().tasks_service_account
    if account:
        request["oidc_token"] = {"service_account_email": account, "audience": _audience()}
    task: dict[str, Any] = {
        "name": f"{queue_path()}/tasks/{task_id(uid, job_id, step, attempt, kind)}",
        "http_request": request,
    }
    return schedule_at(task, delay_seconds)


def enqueue_step(
    uid: str, job_id: str, step: int, *, delay_seconds: float = 0, attempt: int = 0, kind: str = "cards"
) -> bool:
    """Enqueue ``step`` of the job; False when a task of that name already existed."""
    task = build_task(uid, job_id, step, delay_seconds=delay_seconds, attempt=attempt, kind=kind)
    return create(task, {"jobId": job_id, "step": step})


def create(task: dict[str, Any], log_extra: dict[str, Any]) -> bool:
    """Create ``task`` on the queue; False when a task of its name already existed (the same
    name is one task: a step or a job enqueued twice runs once)."""
    from google.api_core import exceptions as gexc

    from aksio import deadlines
    from aksio.clients import tasks_client

    try:
        tasks_client().create_task(
            parent=queue_path(),
            task=task,  # type: ignore[arg-type]
            timeout=deadlines.TASKS_TIMEOUT_S,
            retry=deadlines.tasks_retry(),
        )
    except gexc.AlreadyExists:
        _log.info("task already enqueued", extra=log_extra)
        return False
    return True


def schedule_at(task: dict[str, Any], delay_seconds: float) -> dict[str, Any]:
    """``task`` to run ``delay_seconds`` from now (0: at once)."""
    if delay_seconds > 0:
        from google.protobuf import timestamp_pb2

        ts = timestamp_pb2.Timestamp()
        ts.FromDatetime(datetime.now(UTC) + timedelta(seconds=delay_seconds))
        task["schedule_time"] = ts
    return task


def verify_scheduled_caller(request: Request, function: str) -> str:
    """Whether this request is a Cloud Scheduler job's call of ``function`` (its OIDC identity,
    the function's URL as audience)."""
    cfg = get_config()
    return verify_caller(
        request, account=cfg.scheduler_service_account, audience=lambda: function_url(function), what=function
    )


def _audience() -> str:
    cfg = get_config()
    return cfg.run_generation_audience or cfg.run_generation_url or target_url()


def verify_task_caller(request: Request) -> str:
    """Whether this request comes from our queue (an OIDC token of the queue's account for
    our audience); returns ``oidc``, else raises 401. Never open: with no service account
    configured, every call is refused."""
    cfg = get_config()
    return verify_oidc_caller(request, account=cfg.tasks_service_account, audience=_audience, what="generation steps")


def verify_scheduler_caller(request: Request) -> str:
    """The same for a Cloud Scheduler job (its OIDC identity, the scheduled function's URL)."""
    cfg = get_config()

    def audience() -> str:
        if not cfg.send_reminders_url:
            raise errors.Unauthenticated("No scheduler audience is configured.", code="task_auth_required")
        return cfg.send_reminders_url

    return verify_caller(request, account=cfg.scheduler_service_account, audience=audience, what="scheduled jobs")


def verify_caller(request: Request, *, account: str | None, audience: Any, what: str) -> str:
    """A caller authenticated by the local shared secret (scheduled jobs only: the local
    scheduler has no OIDC identity yet) or by an OIDC token of ``account`` for
    ``audience()``; 401 otherwise."""
    cfg = get_config()
    secret = cfg.tasks_auth_secret
    sent = request.headers.get(SECRET_HEADER)
    if secret and not cfg.is_production and sent is not None:
        if hmac.compare_digest(sent.encode(), secret.encode()):
            return "secret"
        raise errors.Unauthenticated("Bad task secret.", code="bad_task_secret")
    return verify_oidc_caller(request, account=account, audience=audience, what=what)


def verify_oidc_caller(request: Request, *, account: str | None, audience: Any, what: str) -> str:
    """A caller with an OIDC token of ``account`` for ``audience()``; 401 otherwise.

    A request carrying both ``Authorization`` and ``X-Serverless-Authorization`` is refused:
    Cloud Run authenticated the latter, and the former would then be a second, unchecked
    identity (whoever passed Cloud Run's check could name any caller in it)."""
    if request.headers.get("X-Serverless-Authorization") and request.headers.get("Authorization"):
        raise errors.Unauthenticated(
            "Send one identity: Authorization or X-Serverless-Authorization, not both.", code="ambiguous_caller"
        )
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and account:
        claims = _verify_oidc(header[7:].strip(), audience())
        if claims.get("email") != account or claims.get("email_verified") is not True:
            raise errors.Unauthenticated(f"This caller may not run {what}.", code="task_caller_denied")
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


class _Certs:
    """Google's OIDC certificates (``{kid: PEM}``) from the configured URL, kept for their
    ``Cache-Control: max-age`` (at most an hour), fetched again at most every 10 s when a
    token names a key they lack (a rotation)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.url: str | None = None
        self.certs: dict[str, str] = {}
        self.expires = 0.0
        self.fetched = 0.0

    def get(self, url: str, kid: str | None) -> dict[str, str]:
        now = time.monotonic()
        with self.lock:
            stale = url != self.url or now >= self.expires or (kid not in self.certs and now - self.fetched > 10)
            if stale:
                self._fetch(url, now)
            return dict(self.certs)

    def _fetch(self, url: str, now: float) -> None:
        import re

        import requests

        from aksio import deadlines

        try:
            response = requests.get(url, timeout=deadlines.TASKS_TIMEOUT_S)
            response.raise_for_status()
            certs = response.json()
        except (requests.RequestException, ValueError):
            _log.warning("task token certificates unavailable")
            raise errors.Unavailable("Could not verify the task token right now; retry shortly.") from None
        if not isinstance(certs, dict):
            raise errors.Unavailable("Could not verify the task token right now; retry shortly.")
        match = re.search(r"max-age=(\d+)", response.headers.get("Cache-Control", ""))
        self.url, self.certs, self.fetched = url, {str(k): str(v) for k, v in certs.items()}, now
        self.expires = now + min(int(match.group(1)) if match else 300, 3600)


_certs = _Certs()


def _verify_signed(token: str, audience: str) -> dict[str, Any]:
    """Signature (RS256, a key of the certificates URL), expiry, audience and issuer."""
    from google.auth import jwt

    try:
        header = jwt.decode_header(token)  # type: ignore[no-untyped-call]
    except ValueError:
        raise errors.Unauthenticated("Invalid task token.", code="bad_task_token") from None
    kid = header.get("kid") if isinstance(header, dict) else None
    certs = _certs.get(get_config().tasks_oidc_certs_url, kid if isinstance(kid, str) else None)
    try:
        claims: dict[str, Any] = jwt.decode(  # type: ignore[no-untyped-call]
            token, certs=certs, audience=audience, clock_skew_in_seconds=60
        )
    except (ValueError, TypeError):
        raise errors.Unauthenticated("Invalid task token.", code="bad_task_token") from None
    if claims.get("iss") not in _ISSUERS:
        raise errors.Unauthenticated("Invalid task token.", code="bad_task_token")
    return claims


# -- tasks for any task function (account jobs) ------------------------------------------------


def function_url(function: str) -> str:
    """Where a task for ``function`` goes: its ``<NAME>_URL`` (production: terraform sets it on
    the functions that call it and on itself), else the local gateway's route for it."""
    cfg = get_config()
    url = cfg.function_urls.get(function)
    if url:
        return url
    if cfg.gateway_url:
        return cfg.gateway_url.rstrip("/") + "/" + function
    raise RuntimeError(f"set {function.upper().replace('-', '_')}_URL (production) or GATEWAY_URL (local)")


def enqueue_call(function: str, name: str, payload: dict[str, Any], *, delay_seconds: float = 0) -> bool:
    """Enqueue a POST of ``payload`` (JSON) to task function ``function``, named ``name``
    (the same name twice is one task: False when it existed), with an OIDC token of the
    queue's account for that function's URL (the local Tasks emulator mints them too)."""
    target = function_url(function)
    request: dict[str, Any] = {
        "http_method": "POST",
        "url": target,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(payload).encode(),
    }
    cfg = get_config()
    if cfg.tasks_service_account:
        request["oidc_token"] = {"service_account_email": cfg.tasks_service_account, "audience": target}
    task: dict[str, Any] = {"name": f"{queue_path()}/tasks/{name}", "http_request": request}
    return create(schedule_at(task, delay_seconds), {"function": function})


def verify_function_caller(request: Request, function: str) -> str:
    """The caller of task function ``function`` is our queue: its OIDC token only."""
    cfg = get_config()
    return verify_oidc_caller(
        request, account=cfg.tasks_service_account, audience=lambda: function_url(function), what=function
    )
