"""The OpenAPI 3.1 document of every HTTPS function, built from the same route and
pydantic declarations that serve the requests (so it cannot drift from the code).

Functions are found in ``functions/functions.json``; a function ``foo-bar`` with an
HTTP API declares it as ``aksio.endpoints.foo_bar.api``.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aksio import __version__
from aksio.lazy import resolve

if TYPE_CHECKING:  # pragma: no cover
    from pydantic import BaseModel

    from aksio.http import Api, Route

_PARAM = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_REF = "#/components/schemas/{model}"
_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No content",
    400: "Invalid input (the offending fields are in error.details)",
    401: "Missing, malformed, expired or revoked ID token",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Body too large",
    415: "Body is not application/json",
    429: "Quota or rate limit exceeded",
    500: "Internal error",
    503: "A dependency is unavailable",
}
_REPLAY_TEXT = "OK: a repeat of an earlier create (idempotent): what that one made, as it now is"


@dataclass(frozen=True)
class Link:
    """An OpenAPI link from an operation's answer: call ``operation`` (its operationId,
    ``function.handler``) with ``parameters`` (a parameter's name, or ``query.name``, → a
    runtime expression such as ``$response.body#/id``) and ``body`` (fields of its request
    body, each a value or an expression). Stateful fuzzing and client generators follow them."""

    name: str
    operation: str
    parameters: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None

    def document(self) -> dict[str, Any]:
        out: dict[str, Any] = {"operationId": self.operation}
        if self.parameters:
            out["parameters"] = dict(self.parameters)
        if self.body is not None:
            out["requestBody"] = dict(self.body)
        return out


def manifest(root: Path) -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads((root / "functions" / "functions.json").read_text())
    return data


def function_apis(root: Path) -> list[Api]:
    apis = []
    for name in manifest(root):
        try:
            module = importlib.import_module(f"aksio.endpoints.{name.replace('-', '_')}")
        except ModuleNotFoundError:
            continue
        api = getattr(module, "api", None)
        if api is not None:
            apis.append(api)
    return apis


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, model: type[BaseModel], mode: str = "validation") -> dict[str, Any]:
        schema = model.model_json_schema(by_alias=True, ref_template=_REF, mode=mode)  # type: ignore[arg-type]
        self.components.update(schema.pop("$defs", {}))
        self.components[model.__name__] = schema
        return {"$ref": _REF.format(model=model.__name__)}


def _path(api: Api, route: Route) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for m in _PARAM.finditer(route.path):
        kind = {"int": "integer", "float": "number"}.get(m.group("conv") or "", "string")
        params.append({"name": m.group("name"), "in": "path", "required": True, "schema": {"type": kind}})
    local = _PARAM.sub(lambda m: "{" + m.group("name") + "}", route.path).rstrip("/")
    return f"/{api.name}{local}", params


def _query_params(model: type[BaseModel], schemas: _Schemas) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True, ref_template=_REF)
    schemas.components.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _successes(route: Route, schemas: _Schemas) -> dict[str, Any]:
    """The route's status and, for an idempotent create, the 200 of its replay: same body, same links."""
    statuses = {route.status: _STATUS_TEXT.get(route.status, "OK")}
    if route.replay_status is not None:
        statuses[route.replay_status] = _REPLAY_TEXT
    out: dict[str, Any] = {}
    for status, text in statuses.items():
        ok: dict[str, Any] = {"description": text}
        if route.response is not None:
            ok["content"] = {"application/json": {"schema": schemas.ref(resolve(route.response), "serialization")}}
        if route.links:
            ok["links"] = {link.name: link.document() for link in route.links}
        out[str(status)] = ok
    return out


def _merge(op: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if key == "parameters":
            op["parameters"] = [*op.get("parameters", []), *value]
        else:
            op[key] = value


# Where the functions answer: Cloud Functions gen2 serves a function `name` of a project at
# https://{region}-{project}.cloudfunctions.net/name; the local stack's gateway at /name.
SERVERS: list[dict[str, Any]] = [
    {
        "url": "https://{region}-{project}.cloudfunctions.net",
        "description": "production (Cloud Functions gen2)",
        "variables": {"region": {"default": "europe-west1"}, "project": {"default": "aksio"}},
    },
    {"url": "http://127.0.0.1:8000", "description": "the local stack's gateway (make run)"},
]
# The committed document (the API contract; `make openapi-accept` updates it), packaged with
# every function and served by health at /health/openapi.json.
DOCUMENT = Path(__file__).with_name("openapi.json")


def build(apis: list[Api], *, server_url: str | None = None) -> dict[str, Any]:
    """The document of ``apis``; its servers are :data:`SERVERS`, or ``server_url`` alone."""
    from aksio.schema import ErrorResponse

    schemas = _Schemas()
    error_ref = schemas.ref(ErrorResponse, "serialization")
    paths: dict[str, dict[str, Any]] = {}
    for api in apis:
        for route in api.routes:
            path, params = _path(api, route)
            op: dict[str, Any] = {
                "operationId": f"{api.name}.{route.handler.__name__}",
                "summary": route.summary,
                "tags": [api.name],
            }
            if route.query is not None:
                params += _query_params(resolve(route.query), schemas)
            if params:
                op["parameters"] = params
            if route.body is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": schemas.ref(resolve(route.body))}},
                }
            responses = _successes(route, schemas)
            statuses = set(route.errors) | {404, 405, 500}
            if route.auth:
                statuses.add(401)
                op["security"] = [{"firebaseIdToken": []}]
            if route.body is not None:
                statuses |= {400, 413, 415}
            if route.query is not None:
                statuses.add(400)
            for status in sorted(statuses):
                responses[str(status)] = {
                    "description": _STATUS_TEXT.get(status, "Error"),
                    "content": {"application/json": {"schema": error_ref}},
                }
            op["responses"] = responses
            _merge(op, route.doc or {})
            paths.setdefault(path or "/", {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Aksio API",
            "version": __version__,
            "description": "HTTPS functions of the Aksio backend. Errors share one shape; "
            "every response carries X-Request-Id.",
        },
        "servers": [{"url": server_url}] if server_url else SERVERS,
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {
                "firebaseIdToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Firebase Auth ID token",
                }
            },
        },
    }


def render(document: dict[str, Any]) -> str:
    """The committed form of a document: stable key order as built, 2-space indent."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> None:  # pragma: no cover - CLI
    import sys

    root = Path(__file__).resolve().parents[2]
    sys.stdout.write(render(build(function_apis(root))))


if __name__ == "__main__":  # pragma: no cover
    main()
