"""One error shape for every HTTP function.

Every failure a client can see is an :class:`ApiError`; rendering turns it into
``{"error": {"code", "message", "details"?, "requestId"}}`` with its HTTP status.
Anything else that escapes a handler becomes a 500 ``internal`` without internals.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error meant for the client: a stable machine code, a human message, a status."""

    status: int = 500
    code: str = "internal"

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}
        if code is not None:
            self.code = code

    def body(self, request_id: str | None) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        if request_id:
            error["requestId"] = request_id
        return {"error": error}


class BadRequest(ApiError):
    status, code = 400, "invalid_argument"


class Unauthenticated(ApiError):
    status, code = 401, "unauthenticated"

    def __init__(self, message: str = "A valid Firebase ID token is required.", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="aksio"'})
        super().__init__(message, **kw)


class PermissionDenied(ApiError):
    status, code = 403, "permission_denied"


class NotFound(ApiError):
    status, code = 404, "not_found"


class MethodNotAllowed(ApiError):
    status, code = 405, "method_not_allowed"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class TooManyRequests(ApiError):
    status, code = 429, "resource_exhausted"


class Internal(ApiError):
    status, code = 500, "internal"

    def __init__(self, message: str = "Internal error. Quote the request id when reporting it.", **kw: Any) -> None:
        super().__init__(message, **kw)


class Unavailable(ApiError):
    status, code = 503, "unavailable"
