"""Structured JSON logging that Cloud Logging understands.

One JSON object per line on stdout with ``severity``, ``message``, the request id and,
when the request carried ``X-Cloud-Trace-Context``, the ``logging.googleapis.com/trace``
field that groups a request's lines in the console.

Never pass tokens, keys or user content to a logger: log ids and sizes, not values.

Business events are log lines with an ``event`` field (``extra={"event": "card_reviewed"}``),
``jsonPayload.event`` in Cloud Logging: terraform/modules/monitoring counts each name listed in
its ``log_events`` with a log-based metric (a test checks the code logs every listed name).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("aksio_request_id", default=None)
_trace: contextvars.ContextVar[str | None] = contextvars.ContextVar("aksio_trace", default=None)
_span: contextvars.ContextVar[str | None] = contextvars.ContextVar("aksio_span", default=None)

_SEVERITY = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}
# LogRecord attributes that are not "extra" fields given by the caller.
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def set_context(request_id: str | None, trace_header: str | None = None, project: str | None = None) -> None:
    """Bind the current request's id and trace to every log line written in this context."""
    _request_id.set(request_id)
    trace = span = None
    if trace_header and project:
        # X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=OPTIONS
        trace_id, _, rest = trace_header.partition("/")
        if trace_id and all(c in "0123456789abcdefABCDEF" for c in trace_id):
            trace = f"projects/{project}/traces/{trace_id}"
            span = rest.split(";", 1)[0] or None
    _trace.set(trace)
    _span.set(span)


def request_id() -> str | None:
    return _request_id.get()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelno, "DEFAULT"),
            "message": record.getMessage(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "logger": record.name,
        }
        rid = _request_id.get()
        if rid:
            entry["requestId"] = rid
        trace = _trace.get()
        if trace:
            entry["logging.googleapis.com/trace"] = trace
            span = _span.get()
            if span:
                entry["logging.googleapis.com/spanId"] = span
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["stack_trace"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _StdoutHandler(logging.Handler):
    """Writes to whatever ``sys.stdout`` is now (functions-framework and tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:
            self.handleError(record)


_configured = False


def get_logger(name: str = "aksio") -> logging.Logger:
    """A logger writing JSON lines to stdout (configured once per process)."""
    global _configured
    if not _configured:
        root = logging.getLogger("aksio")
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        root.handlers[:] = [handler]
        root.setLevel(logging.INFO)
        root.propagate = False
        _configured = True
    return logging.getLogger(name if name.startswith("aksio") else f"aksio.{name}")
