"""Domain errors: what went wrong, in the domain's words, with no HTTP in them.

Models and services raise these; the HTTP edge (:mod:`aksio.http`, :mod:`aksio.edge`) maps each kind to its
status once, in :data:`aksio.edge.STATUS`, and renders one shape:
``{"error": {"code", "message", "details"?, "requestId"}}``. Anything else that escapes a
handler becomes a 500 ``internal`` without internals (a dependency that is down or timed
out becomes a 503 ``unavailable``: see :func:`aksio.edge.dependency_error`).

A ``retry_after`` (seconds) tells the client when trying again makes sense; the edge sends
it as ``Retry-After``.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """An error meant for the client: a stable machine code and a human message."""

    code: str = "internal"

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        code: str | None = None,
        retry_after: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.retry_after = retry_after
        self.headers = dict(headers or {})
        if code is not None:
            self.code = code

    def body(self, request_id: str | None) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        if request_id:
            error["requestId"] = request_id
        return {"error": error}


class Invalid(AppError):
    """The input cannot be accepted as it is (a bad value, a rule the input breaks)."""

    code = "invalid_argument"


class Unauthenticated(AppError):
    """No valid identity came with the request."""

    code = "unauthenticated"

    def __init__(self, message: str = "A valid Firebase ID token is required.", **kw: Any) -> None:
        super().__init__(message, **kw)


class PermissionDenied(AppError):
    """The caller is known but may not do this."""

    code = "permission_denied"


class NotFound(AppError):
    """The thing named does not exist (or is not the caller's, which reads the same)."""

    code = "not_found"


class Conflict(AppError):
    """The request contradicts the stored state (already exists, wrong state, not last...)."""

    code = "conflict"


class QuotaExceeded(AppError):
    """A plan limit for the current period is used up."""

    code = "resource_exhausted"


class Unavailable(AppError):
    """A dependency is down, slow or refusing; trying again later may work."""

    code = "unavailable"

    def __init__(self, message: str = "A service this request needs is unavailable; retry shortly.", **kw: Any):
        kw.setdefault("retry_after", 5)
        super().__init__(message, **kw)


class Contention(Unavailable):
    """Too many concurrent changes of the same data: the transaction gave up retrying."""

    code = "contention"

    def __init__(self, message: str = "Too much contention on this data; retry shortly.", **kw: Any):
        kw.setdefault("retry_after", 1)
        super().__init__(message, **kw)


class TooLarge(AppError):
    """The input is larger than a limit allows (a body, a file, a plan's cap)."""

    code = "payload_too_large"


class Internal(AppError):
    """A bug or a misconfiguration: the details are in the log, never in the answer."""

    code = "internal"

    def __init__(self, message: str = "Internal error. Quote the request id when reporting it.", **kw: Any) -> None:
        super().__init__(message, **kw)
