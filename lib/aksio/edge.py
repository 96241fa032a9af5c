"""The HTTP edge's rules: each domain error's status (chosen here, once), the headers it
carries, the failures of a dependency (down, hung past its deadline, overloaded) that answer
503 ``unavailable`` rather than 500, and how input (a JSON body, a query string) becomes a
model or a 400 naming the offending fields.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from aksio import errors

if TYPE_CHECKING:  # pragma: no cover
    from flask import Request
    from pydantic import BaseModel

__all__ = [
    "STATUS",
    "MethodNotAllowed",
    "UnsupportedMediaType",
    "dependency_error",
    "error_headers",
    "parse_body",
    "query_dict",
    "status_of",
    "validate",
]


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


def query_dict(request: Request) -> dict[str, Any]:
    """The query string as a dict (a repeated parameter as a list of its values)."""
    out: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        out[key] = values if len(values) > 1 else values[0]
    return out


def parse_body(request: Request, model: type[BaseModel], max_bytes: int) -> BaseModel:
    """The JSON body validated by ``model``: 415 unless JSON, 413 past ``max_bytes``, 400 otherwise."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(f"Send the body as application/json (got {request.mimetype or 'no content type'}).")
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise errors.TooLarge(f"The request body is larger than {max_bytes} bytes.")
    try:
        data = json.loads(raw or b"null")
    except ValueError as exc:
        raise errors.Invalid(f"The body is not valid JSON: {exc}", code="invalid_json") from None
    if data is None:
        raise errors.Invalid("A JSON body is required.", code="invalid_json")
    return validate(model, data, where="body")


def validate(model: type[BaseModel], data: Any, *, where: str) -> BaseModel:
    """``data`` as ``model``, or a 400 whose details name each offending field."""
    from pydantic import ValidationError

    from aksio.schema import invalid_input

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc, where) from None
