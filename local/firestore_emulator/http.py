"""The emulator's HTTP/1.1 endpoints: reset (as the official emulator has it), operation counts, health.

* ``DELETE /emulator/v1/projects/{project}/databases/{database}/documents`` deletes every document of that database
  (history included), aborts its open transactions, and tells listeners the documents are gone.
* ``GET /emulator/v1/projects/{project}:stats`` → ``{"reads", "writes", "deletes", "databases": {id: {...}}}``, the
  operations billed since start or the last ``DELETE`` of the same URL (which zeroes them).
* ``GET|DELETE /emulator/v1/projects/{project}/databases/{database}:stats``: the same for one database.
* ``POST /emulator/v1/projects/{project}/databases/{database}:abortTransactions`` with
  ``{"pathPrefix": "users/u1/cards", "count": 30}``: fault injection (not in the official emulator). The next
  ``count`` transaction commits that write a document at or under the prefix answer ABORTED, as production does
  under contention, so a test can drive a client's transaction retries to exhaustion. ``count`` 0 clears that
  prefix; ``DELETE`` of the same URL clears them all.
* ``GET /`` → ``Ok`` (health).
"""

from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from .server import Emulator

_DOCUMENTS = re.compile(r"/emulator/v1/projects/([^/]+)/databases/([^/]+)/documents/?")
_PROJECT_STATS = re.compile(r"/emulator/v1/projects/([^/:]+):stats")
_DATABASE_STATS = re.compile(r"/emulator/v1/projects/([^/]+)/databases/([^/:]+):stats")
_ABORTS = re.compile(r"/emulator/v1/projects/([^/]+)/databases/([^/:]+):abortTransactions")


def make_handler(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to ``emulator``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "firestore-emulator"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: requests are not logged."""

        def _reply(self, status: int, body: object) -> None:
            payload = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if isinstance(body, str) else "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _drain(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)

        def do_GET(self) -> None:
            self._drain()
            path = unquote(urlsplit(self.path).path)
            if path == "/":
                self._reply(200, "Ok")
            elif match := _PROJECT_STATS.fullmatch(path):
                self._reply(200, emulator.project_stats(match.group(1)))
            elif match := _DATABASE_STATS.fullmatch(path):
                self._reply(200, emulator.database_stats((match.group(1), match.group(2))).as_dict())
            else:
                self._reply(404, {"error": {"code": 404, "message": f"Not found: {path}", "status": "NOT_FOUND"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path = unquote(urlsplit(self.path).path)
            match = _ABORTS.fullmatch(path)
            if match is None:
                self._reply(404, {"error": {"code": 404, "message": f"Not found: {path}", "status": "NOT_FOUND"}})
                return
            try:
                body = json.loads(raw or b"{}")
                prefix, count = str(body["pathPrefix"]), int(body.get("count", 1))
            except (ValueError, KeyError, TypeError):
                self._reply(400, {"error": {"code": 400, "message": "send {pathPrefix, count}", "status": "INVALID"}})
                return
            emulator.set_aborts((match.group(1), match.group(2)), prefix, count)
            self._reply(200, {})

        def do_DELETE(self) -> None:
            self._drain()
            path = unquote(urlsplit(self.path).path)
            if match := _DOCUMENTS.fullmatch(path):
                emulator.reset((match.group(1), match.group(2)))
                self._reply(200, {})
            elif match := _PROJECT_STATS.fullmatch(path):
                emulator.reset_stats(match.group(1))
                self._reply(200, {})
            elif match := _DATABASE_STATS.fullmatch(path):
                emulator.database_stats((match.group(1), match.group(2))).clear()
                self._reply(200, {})
            elif match := _ABORTS.fullmatch(path):
                emulator.clear_aborts((match.group(1), match.group(2)))
                self._reply(200, {})
            else:
                self._reply(404, {"error": {"code": 404, "message": f"Not found: {path}", "status": "NOT_FOUND"}})

    return Handler
