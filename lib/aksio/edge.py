"""Domain errors at the HTTP edge: each kind's status (chosen here, once), the headers it
carries, and the failures of a dependency (down, hung past its deadline, overloaded) that
answer 503 ``unavailable`` rather than 500.
"""

from __future__ import annotations

import sys

from aksio import errors

__all__ = ["STATUS", "MethodNotAllowed", "UnsupportedMediaType", "dependency_error", "error_headers", "status_of"]


class MethodNotAllowed(errors.AppError):
    code = "method_not_allowed"


class UnsupportedMediaType(errors.AppError):
    code = "unsupported_media_type"


# Each domain error's HTTP status: chosen here, once (the most specific class wins).
STATUS: dict[type[errors.AppError], int] = {
    errors.Invalid: 400,
    errors.Unauthenticated: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    MethodNotAllowed: 405,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    UnsupportedMediaType: 415,
    errors.QuotaExceeded: 429,
    errors.Internal: 500,
    errors.Unavailable: 503,
}


def status_of(exc: errors.AppError) -> int:
    """The HTTP status of a domain error."""
    for kind in type(exc).__mro__:
        status = STATUS.get(kind)
        if status is not None:
            return status
    return 500


def error_headers(exc: errors.AppError) -> dict[str, str]:
    headers = dict(exc.headers)
    if exc.retry_after is not None:
        headers.setdefault("Retry-After", str(max(1, int(exc.retry_after))))
    if isinstance(exc, errors.Unauthenticated):
        headers.setdefault("WWW-Authenticate", 'Bearer realm="aksio"')
    return headers


def dependency_error(exc: BaseException) -> errors.Unavailable | None:
    """A failure of a dependency (down, hung past its deadline, overloaded) as a 503, or None.

    Looks only at libraries already loaded, so a function never imports one to ask."""
    gexc = sys.modules.get("google.api_core.exceptions")
    seen = 0
    cur: BaseException | None = exc
    while cur is not None and seen < 10:
        if isinstance(cur, errors.Unavailable):
            return cur
        if gexc is not None and isinstance(
            cur, gexc.DeadlineExceeded | gexc.ServiceUnavailable | gexc.RetryError | gexc.TooManyRequests
        ):
            return errors.Unavailable()
        requests_exc = sys.modules.get("requests.exceptions")
        if requests_exc is not None and isinstance(cur, requests_exc.Timeout | requests_exc.ConnectionError):
            return errors.Unavailable()
        if isinstance(cur, TimeoutError | ConnectionError):
            return errors.Unavailable()
        cur = cur.__cause__ or cur.__context__
        seen += 1
    return None
