"""The HTTP edge every HTTPS function shares.

A function declares an :class:`Api` (its routes, each with optional pydantic models
for the JSON body, the query string and the response) and its ``main.py`` hands every
request to it::

    api = Api("decks")

    @api.post("/", body=NewDeck, response=Deck, status=201)
    def create(ctx: Ctx) -> Deck: ...

    @functions_framework.http
    def decks(request):
        return api(request)

``Api`` does, in order: request id and log context, CORS (allow-list), size limit (413),
routing (404, 405 with ``Allow``), Firebase authentication (401), content type (415),
JSON and validation (400 with the offending fields), the handler (within a Firestore time
budget, :mod:`aksio.deadlines`), rendering, and one error shape for everything (500
without internals). The same declarations generate the OpenAPI document (:mod:`aksio.openapi`).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import MethodNotAllowed as _WzMethodNotAllowed
from werkzeug.exceptions import NotFound as _WzNotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from aksio import deadlines, errors, log
from aksio.config import get_config
from aksio.edge import (
    STATUS,
    MethodNotAllowed,
    dependency_error,
    error_headers,
    parse_body,
    query_dict,
    status_of,
    validate,
)
from aksio.lazy import ModelRef, resolve
from aksio.openapi import Link
from aksio.params import Spec
from aksio.params import parse as parse_query

if TYPE_CHECKING:  # pragma: no cover
    from flask import Request
    from pydantic import BaseModel
    from werkzeug.exceptions import HTTPException

    from aksio.auth import Caller

_log = log.get_logger("aksio.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}
Handler = Callable[["Ctx"], Any]


@dataclass
class Ctx:
    """What a handler gets: the request, its id, path parameters, caller, parsed input."""

    request: Request
    request_id: str
    params: dict[str, Any] = field(default_factory=dict)
    caller: Caller | None = None
    body: Any = None
    query: Any = None

    @property
    def uid(self) -> str:
        if self.caller is None:  # pragma: no cover - a route without auth asked for a uid
            raise errors.Unauthenticated()
        return self.caller.uid


@dataclass
class Result:
    """A handler's answer when it needs a status or headers other than the route's."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    path: str
    method: str
    handler: Handler
    body: type[BaseModel] | ModelRef | None
    query: type[BaseModel] | ModelRef | None
    response: type[BaseModel] | ModelRef | None
    status: int
    auth: bool
    check_revoked: bool
    summary: str
    errors: tuple[int, ...]
    fast_query: Spec | None = field(default=None, compare=False)
    # The status of an idempotent replay (a retry answered with what the first call made).
    replay_status: int | None = None
    # OpenAPI links from this operation's answer to the operations that use what it made.
    links: tuple[Link, ...] = field(default=(), compare=False)
    # OpenAPI fields of the operation the declarations cannot say (a raw body, a header).
    doc: dict[str, Any] | None = field(default=None, compare=False)
    # What the route spends (ai, upload, billing): the checks of aksio.guards apply.
    spends: str | None = None


class Api:
    """The routes of one HTTPS function, and the request pipeline around them."""

    def __init__(
        self,
        name: str,
        *,
        summary: str = "",
        auth: bool = True,
        check_revoked: bool = False,
    ) -> None:
        self.name = name
        self.summary = summary
        self.auth = auth
        self.check_revoked = check_revoked
        self.routes: list[Route] = []
        self._map = Map(strict_slashes=False, merge_slashes=True)

    # -- declaring routes -------------------------------------------------------------

    def route(
        self,
        path: str,
        method: str,
        *,
        body: type[BaseModel] | ModelRef | None = None,
        query: type[BaseModel] | ModelRef | None = None,
        response: type[BaseModel] | ModelRef | None = None,
        fast_query: Spec | None = None,
        status: int = 200,
        auth: bool | None = None,
        check_revoked: bool | None = None,
        summary: str = "",
        errors: tuple[int, ...] = (),
        replay_status: int | None = None,
        links: tuple[Link, ...] = (),
        doc: dict[str, Any] | None = None,
        spends: str | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            route = Route(
                path=path,
                method=method.upper(),
                handler=handler,
                body=body,
                query=query,
                response=response,
                status=status,
                auth=self.auth if auth is None else auth,
                check_revoked=self.check_revoked if check_revoked is None else check_revoked,
                summary=summary or (handler.__doc__ or "").strip().split("\n")[0],
                errors=errors,
                fast_query=fast_query,
                replay_status=replay_status,
                links=links,
                doc=doc,
                spends=spends,
            )
            self.routes.append(route)
            self._map.add(Rule(path, methods=[route.method], endpoint=route))
            return handler

        return register

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route(path, "GET", **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route(path, "POST", **kw)

    def put(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route(path, "PUT", **kw)

    def patch(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route(path, "PATCH", **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route(path, "DELETE", **kw)

    # -- serving ------------------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        started = time.perf_counter()
        cfg = get_config()
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        log.set_context(request_id, request.headers.get("X-Cloud-Trace-Context"), cfg.project)
        origin = request.headers.get("Origin")
        cors = _cors_headers(origin, cfg.cors_origins)
        route: Route | None = None
        try:
            if request.method == "OPTIONS" and origin:
                response = self._preflight(request, cors)
            else:
                route, params = self._match(request)
                with deadlines.budget(deadlines.REQUEST_BUDGET_S):  # bounds every Firestore call
                    response = self._dispatch(request, request_id, route, params)
        except errors.AppError as exc:
            response = _error_response(exc, request_id)
        except Exception as exc:
            unavailable = dependency_error(exc)
            if unavailable is not None:
                _log.warning("dependency unavailable: %s", type(exc).__name__, extra={"function": self.name})
                response = _error_response(unavailable, request_id)
            else:
                _log.exception("unhandled error", extra={"function": self.name})
                response = _error_response(errors.Internal(), request_id)
        response.headers["X-Request-Id"] = request_id
        response.headers.update(cors)
        _log.info(
            "%s %s %s",
            request.method,
            route.path if route else "-",
            response.status_code,
            extra={
                "function": self.name,
                "status": response.status_code,
                "latencyMs": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response

    def framework_error(self, exc: HTTPException) -> Response:
        """functions-framework's own answer, taken over (``main.py`` registers it with
        ``functions_framework.errorhandler``): its routing's 404 or 405, before this Api is
        reached (a path holding a line feed, ``/robots.txt``), goes through the pipeline, which
        routes the request or answers in the JSON error shape; any other in that shape too."""
        if exc.code in (404, 405):
            import flask

            return self(flask.request)
        return framework_error(exc)

    def _local_path(self, request: Request) -> str:
        # Behind the gateway the function's own prefix is already gone; on a Cloud Run URL
        # it may still be there. Either way the routes are relative to the function.
        path = request.path or "/"
        prefix = f"/{self.name}"
        if path == prefix or path.startswith(prefix + "/"):
            path = path[len(prefix) :] or "/"
        return path

    def _match(self, request: Request) -> tuple[Route, dict[str, Any]]:
        adapter = self._map.bind("aksio", "/")
        try:
            endpoint, params = adapter.match(self._local_path(request), method=request.method)
        except _WzNotFound:
            raise errors.NotFound(f"No such route: {request.method} {request.path}") from None
        except _WzMethodNotAllowed as exc:
            allowed = sorted(set(exc.valid_methods or ()) | {"OPTIONS"})
            raise MethodNotAllowed(
                f"{request.method} is not allowed here; use {', '.join(allowed)}.",
                headers={"Allow": ", ".join(allowed)},
            ) from None
        assert isinstance(endpoint, Route)
        return endpoint, dict(params)

    def _preflight(self, request: Request, cors: dict[str, str]) -> Response:
        if not cors:
            raise errors.PermissionDenied("This origin may not call the API.", code="cors_origin_denied")
        headers = dict(cors)
        headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
        headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, X-Request-Id"
        headers["Access-Control-Max-Age"] = "3600"
        return Response(status=204, headers=headers)

    def _dispatch(self, request: Request, request_id: str, route: Route, params: dict[str, Any]) -> Response:
        ctx = Ctx(request=request, request_id=request_id, params=params)
        max_bytes = get_config().max_body_bytes
        if request.content_length is not None and request.content_length > max_bytes:
            raise errors.TooLarge(f"The request body is larger than {max_bytes} bytes.")
        revocation: _Background | None = None
        if route.auth:
            from aksio.auth import verify

            header = request.headers.get("Authorization")
            if route.check_revoked and route.method == "GET":
                # A read of a sensitive function: the revocation lookup (one Auth call) runs
                # beside the handler, and the answer is sent only once it has passed.
                ctx.caller = verify(header)
                revocation = _Background(lambda: verify(header, check_revoked=True))
            else:
                ctx.caller = verify(header, check_revoked=route.check_revoked)
            if route.spends is not None:
                from aksio.guards import check  # the account, a verified email, the AI switch

                check(ctx.caller, route.spends)
        if route.body is not None:
            ctx.body = parse_body(request, resolve(route.body), max_bytes)
        if route.query is not None:
            fast: Any = parse_query(route.fast_query, request.args) if route.fast_query is not None else None
            if fast is None:  # no fast path, or a query the model must decide
                fast = validate(resolve(route.query), query_dict(request), where="query")
            ctx.query = fast
        try:
            result = route.handler(ctx)
        finally:
            if revocation is not None:
                revocation.result()  # a revoked session is answered 401, whatever the handler did
        return _render(result, route.status)


class _Background:
    """``fn()`` on a thread of its own (in the caller's context); :meth:`result` waits for it
    and raises what it raised."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        import contextvars
        import threading

        self._error: BaseException | None = None
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._run, fn), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except BaseException as exc:  # re-raised in the request's thread by result()
            self._error = exc

    def result(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


def _cors_headers(origin: str | None, allowed: tuple[str, ...]) -> dict[str, str]:
    if not origin or not (origin in allowed or "*" in allowed):
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Vary": "Origin",
        "Access-Control-Expose-Headers": "X-Request-Id, Idempotent-Replayed",
    }


def _dump(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    payload = json.dumps(_dump(body), separators=(",", ":"), ensure_ascii=False, default=str)
    return Response(payload, status=status, headers=headers, mimetype="application/json")


def _render(result: Any, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, Result):
        return json_response(result.body, result.status, result.headers)
    if result is None and status == 204:
        return Response(status=204)
    return json_response(result, status)


def framework_error(exc: HTTPException) -> Response:
    """An error functions-framework (Flask) answers itself, before any handler (a cloud-event
    function's 405 to a GET, its 400 to a body that is no event), in the JSON error shape.
    An exception that carries its own answer (a handler's 503 with ``Retry-After``) keeps it."""
    if isinstance(exc.response, Response):
        return exc.response
    request_id = uuid.uuid4().hex
    status = exc.code or 500
    code = next((kind.code for kind, s in STATUS.items() if s == status), exc.name.lower().replace(" ", "_"))
    error = errors.AppError(exc.description or exc.name, code=code)
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    response = json_response(error.body(request_id), status, headers)
    response.headers["X-Request-Id"] = request_id
    return response


def _error_response(exc: errors.AppError, request_id: str) -> Response:
    status = status_of(exc)
    if status >= 500:
        _log.error("request failed: %s", exc.code, extra={"status": status})
    return json_response(exc.body(request_id), status, error_headers(exc))
