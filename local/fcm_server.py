"""The local stack's Firebase Cloud Messaging: FCM HTTP v1's ``messages:send`` on loopback.

FCM has no emulator, so this small server speaks its wire format for what the functions use
(``FCM_API_BASE``), records what it accepted, and fails on demand the way FCM fails:

- ``POST /v1/projects/{project}/messages:send`` with ``Authorization: Bearer <token>`` (any
  non-empty token; else 401 ``UNAUTHENTICATED``) and the body ``{"message": {...},
  "validate_only": bool}`` (``validateOnly`` too, as proto3 JSON allows). The message is checked
  as FCM does: known fields only, exactly one target (``token``, ``topic`` or ``condition``), a
  non-empty token, ``data`` a map of strings, ``notification`` ``title``/``body``/``image``
  strings, ``android``/``apns``/``webpush``/``fcm_options`` objects, at most 4096 bytes of data
  and notification text. Anything else is a 400 ``INVALID_ARGUMENT`` with FCM's error body. A
  valid message answers 200 ``{"name": "projects/{project}/messages/{id}"}`` and is recorded
  (``validate_only``: ``.../messages/fake_message_id``, not recorded). With ``--project``, any
  other project is a 403 ``PERMISSION_DENIED``.

Errors have FCM's shape: ``{"error": {"code", "message", "status", "details": [{"@type":
"type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": ...}, ...]}}``.

Test controls (JSON, no authentication, loopback only):

- ``GET /_test/messages[?token=T]``: the messages delivered, oldest first, each ``{"name",
  "project", "token", "time", "message"}``; ``DELETE /_test/messages`` forgets them.
- ``POST /_test/tokens/{token}`` ``{"error": E, "count": n, "retryAfter": s}``: the next ``n``
  sends to that token (``-1``: every one; ``0``: none) fail as FCM fails for ``E``:
  ``UNREGISTERED`` (404), ``INVALID_ARGUMENT`` (400), ``QUOTA_EXCEEDED`` (429, with
  ``Retry-After: s``, default 1), ``UNAVAILABLE`` (503), ``INTERNAL`` (500),
  ``SENDER_ID_MISMATCH`` (403), ``THIRD_PARTY_AUTH_ERROR`` (401). A request must be valid to
  reach the injected failure (``validate_only`` ones too, as FCM checks the token then).
  ``GET /_test/tokens`` lists what is injected; ``DELETE /_test/tokens[/{token}]`` clears it.
- ``GET /_test/requests``: every ``messages:send`` received (newest last, at most
  :data:`REQUEST_LOG_SIZE`): ``{"time", "project", "token", "status", "errorCode",
  "validateOnly"}``; ``DELETE /_test/requests`` forgets them.

Standard library only. Run alone (the stack does this for you)::

    python local/fcm_server.py --port 8430 [--project demo-aksio]
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import signal
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

HOST = "127.0.0.1"
REQUEST_LOG_SIZE = 5000
MAX_PAYLOAD_BYTES = 4096  # FCM's limit for a message's data and notification (topics: 2048)
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
SEND_PATH = re.compile(r"^/v1/projects/([^/]+)/messages:send$")
AUTH_HELP = (
    "Expected OAuth 2 access token, login cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)

# Field names of proto3 JSON, each accepted in both spellings, as FCM does.
MESSAGE_FIELDS = {
    "name": "name",
    "token": "token",
    "topic": "topic",
    "condition": "condition",
    "data": "data",
    "notification": "notification",
    "android": "android",
    "apns": "apns",
    "webpush": "webpush",
    "fcm_options": "fcm_options",
    "fcmOptions": "fcm_options",
}
NOTIFICATION_FIELDS = ("title", "body", "image")
TARGETS = ("token", "topic", "condition")

# How FCM fails, by the errorCode a test injects: HTTP status, canonical status, message.
INJECTABLE: dict[str, tuple[int, str, str]] = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for sending messages to this device."),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"),
}

Answer = tuple[int, dict[str, Any], dict[str, str]]  # status, JSON body, extra headers


class Rejected(Exception):
    """A request FCM refuses, with its answer."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer[1]["error"]["message"])
        self.answer = answer


def rfc3339(moment: datetime) -> str:
    """``2026-03-29T01:00:00.123Z``: UTC, milliseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def google_error(
    code: int,
    status: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return code, {"error": error}, headers or {}


def fcm_detail(error_code: str) -> dict[str, Any]:
    return {"@type": FCM_ERROR, "errorCode": error_code}


def bad_request(field: str, description: str) -> dict[str, Any]:
    violation = {"field": field, "description": description} if field else {"description": description}
    return {"@type": BAD_REQUEST, "fieldViolations": [violation]}


def invalid(message: str, field: str = "", *, fcm: bool = False) -> Answer:
    """A 400 INVALID_ARGUMENT: a BadRequest naming the field, and FCM's own code when FCM adds it."""
    details = [bad_request(field, message)]
    if fcm:
        details.append(fcm_detail("INVALID_ARGUMENT"))
    return google_error(400, "INVALID_ARGUMENT", message, details)


def injected(error_code: str, retry_after: int) -> Answer:
    code, status, message = INJECTABLE[error_code]
    details = [fcm_detail(error_code)]
    if error_code == "INVALID_ARGUMENT":
        details.append(bad_request("message.token", "Invalid registration token"))
    headers = {"Retry-After": str(retry_after)} if error_code == "QUOTA_EXCEEDED" else {}
    return google_error(code, status, message, details, headers)


def _json_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _type_error(field: str, kind: str, value: Any) -> Answer:
    return invalid(f"Invalid value at '{field}' ({kind}), {_json_value(value)}", field)


def _unknown(name: str, where: str) -> Answer:
    at = f" at '{where}'" if where else ""
    message = f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.'
    return invalid(message, where)


def validate_send(body: bytes) -> tuple[dict[str, Any], bool]:
    """The message and ``validate_only`` of a ``messages:send`` body; :class:`Rejected` if FCM refuses it."""
    try:
        request = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, ValueError) as exc:
        raise Rejected(invalid(f"Invalid JSON payload received. Unexpected token.\n{exc}")) from None
    if not isinstance(request, dict):
        raise Rejected(invalid(f"Invalid JSON payload received. Expected an object, got {_json_value(request)[:40]}."))
    validate_only = False
    message: Any = None
    for key, value in request.items():
        if key in ("validate_only", "validateOnly"):
            if value is not None and not isinstance(value, bool):
                raise Rejected(_type_error("validate_only", "TYPE_BOOL", value))
            validate_only = bool(value)
        elif key == "message":
            message = value
        else:
            raise Rejected(_unknown(key, ""))
    if message is None:
        message = {}
    if not isinstance(message, dict):
        raise Rejected(_type_error("message", "type.googleapis.com/google.firebase.fcm.v1.Message", message))
    _check_message(message)
    return message, validate_only


def _check_message(message: dict[str, Any]) -> None:
    targets = _check_fields(message)
    if not targets:
        raise Rejected(invalid("Recipient of the message is not set.", "message", fcm=True))
    token = message.get("token")
    if targets == ["token"] and (not isinstance(token, str) or not token.strip()):
        text = "The registration token is not a valid FCM registration token"
        raise Rejected(invalid(text, "message.token", fcm=True))
    if _payload_size(message) > MAX_PAYLOAD_BYTES:
        raise Rejected(google_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."))


def _check_fields(message: dict[str, Any]) -> list[str]:
    """Known fields of the right JSON types; returns the targets set (token, topic, condition)."""
    targets: list[str] = []
    for key, value in message.items():
        field = MESSAGE_FIELDS.get(key)
        if field is None:
            raise Rejected(_unknown(key, "message"))
        if value is None:
            continue
        if field in (*TARGETS, "name") and not isinstance(value, str):
            raise Rejected(_type_error(f"message.{field}", "TYPE_STRING", value))
        if field in ("android", "apns", "webpush", "fcm_options", "notification") and not isinstance(value, dict):
            raise Rejected(_type_error(f"message.{field}", "TYPE_MESSAGE", value))
        if field in TARGETS:
            if targets:
                text = f"Invalid value at 'message' (oneof), oneof field 'target' is already set. Cannot set '{key}'"
                raise Rejected(invalid(text, "message"))
            targets.append(field)
    return targets


def _payload_size(message: dict[str, Any]) -> int:
    """Bytes of data (keys and values, which must be strings) and notification text."""
    size = 0
    data = message.get("data")
    if data is not None:
        if not isinstance(data, dict):
            raise Rejected(_type_error("message.data", "map", data))
        for index, (key, value) in enumerate(data.items()):
            if not isinstance(value, str):
                raise Rejected(_type_error(f"message.data[{index}].value", "TYPE_STRING", value))
            lowered = key.lower()
            if lowered == "from" or lowered.startswith(("google", "gcm")):
                raise Rejected(invalid(f"Invalid data payload key: {key}", f"message.data[{index}].key", fcm=True))
            size += len(key.encode()) + len(value.encode())
    for key, value in (message.get("notification") or {}).items():
        if key not in NOTIFICATION_FIELDS:
            raise Rejected(_unknown(key, "message.notification"))
        if value is not None and not isinstance(value, str):
            raise Rejected(_type_error(f"message.notification.{key}", "TYPE_STRING", value))
        size += len((value or "").encode())
    return size


def authentication_problem(authorization: str) -> Answer | None:
    """FCM's 401 for a request without a bearer token (any non-empty one is accepted here)."""
    scheme, _, credential = authorization.partition(" ")
    if not authorization:
        answer = google_error(
            401, "UNAUTHENTICATED", f"Request is missing required authentication credential. {AUTH_HELP}"
        )
        answer[2]["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"'
        return answer
    if scheme.lower() != "bearer" or not credential.strip():
        answer = google_error(401, "UNAUTHENTICATED", f"Request had invalid authentication credentials. {AUTH_HELP}")
        answer[2]["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
        return answer
    return None


def parse_injection(body: bytes) -> dict[str, Any]:
    """``{"error", "count", "retryAfter"}`` of a ``POST /_test/tokens/{token}``; ValueError if wrong."""
    spec = json.loads(body or b"{}")
    if not isinstance(spec, dict):
        raise ValueError("the body must be a JSON object")
    error, count, retry_after = spec.get("error"), spec.get("count", 1), spec.get("retryAfter", 1)
    if error not in INJECTABLE:
        raise ValueError(f"error must be one of {', '.join(INJECTABLE)}")
    if not isinstance(count, int) or isinstance(count, bool) or count < -1:
        raise ValueError("count must be an integer >= -1 (-1: every send)")
    if not isinstance(retry_after, int) or isinstance(retry_after, bool) or retry_after < 0:
        raise ValueError("retryAfter must be a whole number of seconds")
    return {"error": error, "count": count, "retryAfter": retry_after}


class FcmServer:
    """The server and what it remembers; :meth:`start` serves on a thread (tests) or for good."""

    def __init__(self, host: str = HOST, port: int = 0, *, project: str | None = None) -> None:
        self.project = project
        self._lock = threading.Lock()
        self.messages: list[dict[str, Any]] = []
        self.requests: collections.deque[dict[str, Any]] = collections.deque(maxlen=REQUEST_LOG_SIZE)
        self.failures: dict[str, dict[str, Any]] = {}  # token -> {"error", "count", "retryAfter"}
        self._sequence = 0
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FcmServer:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fcm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- FCM ---------------------------------------------------------------------------------

    def send(self, project: str, authorization: str, body: bytes) -> Answer:
        """One ``messages:send``: FCM's answer, the message recorded when delivered."""
        problem = authentication_problem(authorization)
        if problem is not None:
            return problem
        if self.project is not None and project != self.project:
            text = (
                "Permission 'cloudmessaging.messages.create' denied on resource "
                f"'//cloudresourcemanager.googleapis.com/projects/{project}' (or it may not exist)."
            )
            return google_error(403, "PERMISSION_DENIED", text)
        try:
            message, validate_only = validate_send(body)
        except Rejected as rejected:
            return rejected.answer
        token = message.get("token")
        with self._lock:
            failure = self.failures.get(token) if isinstance(token, str) else None
            if failure is not None:
                if failure["count"] > 0:
                    failure["count"] -= 1
                    if failure["count"] == 0:
                        del self.failures[token]
                return injected(failure["error"], failure["retryAfter"])
            if validate_only:
                return 200, {"name": f"projects/{project}/messages/fake_message_id"}, {}
            self._sequence += 1
            now = datetime.now(UTC)
            name = f"projects/{project}/messages/0:{int(now.timestamp() * 1e6)}%{self._sequence:016x}"
            self.messages.append(
                {"name": name, "project": project, "token": token, "time": rfc3339(now), "message": message}
            )
        return 200, {"name": name}, {}

    # -- test controls -------------------------------------------------------------------------

    def control(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        """The ``/_test/`` routes."""
        routes = {
            ("GET", "/_test/messages"): lambda: self._messages(query.get("token", [None])[0]),
            ("DELETE", "/_test/messages"): lambda: self._clear(self.messages),
            ("GET", "/_test/requests"): lambda: {"requests": list(self.requests)},
            ("DELETE", "/_test/requests"): lambda: self._clear(self.requests),
            ("GET", "/_test/tokens"): lambda: {"tokens": {t: dict(f) for t, f in self.failures.items()}},
            ("DELETE", "/_test/tokens"): lambda: self._clear(self.failures),
        }
        with self._lock:
            route = routes.get((method, path))
            if route is not None:
                return 200, route()
            token = unquote(path.removeprefix("/_test/tokens/")) if path.startswith("/_test/tokens/") else ""
            if token and method == "DELETE":
                return 200, {"cleared": int(self.failures.pop(token, None) is not None)}
            if token and method == "POST":
                try:
                    failure = parse_injection(body)
                except ValueError as exc:
                    return 400, {"error": str(exc)}
                if failure["count"] == 0:
                    self.failures.pop(token, None)
                    return 200, {"token": token, "failure": None}
                self.failures[token] = failure
                return 200, {"token": token, "failure": failure}
        return 404, {"error": f"no test control {method} {path}"}

    def _messages(self, token: str | None) -> dict[str, Any]:
        return {"messages": [m for m in self.messages if token is None or m["token"] == token]}

    @staticmethod
    def _clear(store: list[Any] | collections.deque[Any] | dict[str, Any]) -> dict[str, int]:
        cleared = len(store)
        store.clear()
        return {"cleared": cleared}

    def _log_request(self, project: str, body: bytes, status: int, answer: dict[str, Any]) -> None:
        try:
            request = json.loads(body)
            message = request.get("message") if isinstance(request, dict) else None
            token = message.get("token") if isinstance(message, dict) else None
            validate_only = bool(request.get("validate_only") or request.get("validateOnly"))
        except (ValueError, AttributeError):
            token, validate_only = None, False
        error_code = None
        for detail in answer.get("error", {}).get("details", []):
            if detail.get("@type") == FCM_ERROR:
                error_code = detail.get("errorCode")
        entry = {
            "time": rfc3339(datetime.now(UTC)),
            "project": project,
            "token": token if isinstance(token, str) else None,
            "status": status,
            "errorCode": error_code,
            "validateOnly": validate_only,
        }
        with self._lock:
            self.requests.append(entry)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "aksio-fcm"
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                print(f"fcm: {format % args}", flush=True)

            def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload, indent=2).encode() + b"\n"
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _serve(self, method: str) -> None:
                split = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = unquote(split.path) if not split.path.startswith("/_test/") else split.path
                if path.startswith("/_test/"):
                    status, payload = server.control(method, path, parse_qs(split.query), body)
                    self._reply(status, payload)
                    return
                match = SEND_PATH.match(path)
                if match is None or method != "POST":
                    message = f"The requested URL {split.path} was not found on this server."
                    status, payload, headers = google_error(404, "NOT_FOUND", message)
                    self._reply(status, payload, headers)
                    return
                status, payload, headers = server.send(match.group(1), self.headers.get("Authorization", ""), body)
                server._log_request(match.group(1), body, status, payload)
                self._reply(status, payload, headers)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

        return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="FCM HTTP v1 messages:send on loopback, for tests (local only).")
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=8430)
    parser.add_argument("--project", help="the only project accepted (default: any)")
    args = parser.parse_args(argv)
    server = FcmServer(args.host, args.port, project=args.project).start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    project = args.project or "any project"
    print(f"fcm listening on {server.url} (POST /v1/projects/{{project}}/messages:send; {project})", flush=True)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
