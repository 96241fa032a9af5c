"""health: liveness plus a cheap dependency check (one Firestore document read)."""

from __future__ import annotations

import time
from typing import Any

from aksio import lazy, log
from aksio.http import Api, Ctx, Result
from aksio.lazy import once

api = Api("health", summary="Liveness with dependency checks", auth=False)
_log = log.get_logger("aksio.health")

# A document that never exists: reading it proves Firestore answers (billed as one read).
PROBE_PATH = ("_aksio", "health")
PROBE_TIMEOUT_S = 3.0  # within the request's Firestore budget (aksio.deadlines)
RETRY_AFTER_S = 5


# The answer's shape (aksio.schema.Health), referenced lazily: health answers without pydantic.
Health = lazy.models("aksio.schema").Health


def firestore_check() -> dict[str, Any]:
    from aksio.clients import firestore_client

    started = time.perf_counter()
    try:
        firestore_client().collection(PROBE_PATH[0]).document(PROBE_PATH[1]).get(timeout=PROBE_TIMEOUT_S, retry=None)
        ok = True
    except Exception as exc:  # any failure means "not healthy"; the type is logged, not the detail
        _log.warning("firestore check failed: %s", type(exc).__name__)
        ok = False
    return {"ok": ok, "latencyMs": round((time.perf_counter() - started) * 1000, 1)}


@api.get("/", response=Health, errors=(503,))
def health(ctx: Ctx) -> Result:
    """Liveness and a Firestore round trip; 503 when a dependency fails."""
    checks = {"firestore": firestore_check()}
    healthy = all(c["ok"] for c in checks.values())
    body = {"status": "ok" if healthy else "degraded", "checks": checks}
    headers = {"Cache-Control": "no-store"}
    if not healthy:
        headers["Retry-After"] = str(RETRY_AFTER_S)
    return Result(body, status=200 if healthy else 503, headers=headers)


@once
def _contract() -> dict[str, Any]:
    import json

    from aksio.openapi import DOCUMENT

    document: dict[str, Any] = json.loads(DOCUMENT.read_text())
    return document


@api.get("/openapi.json")
def openapi_document(ctx: Ctx) -> Result:
    """The API contract: the committed OpenAPI 3.1 document of every HTTPS function."""
    return Result(_contract(), headers={"Cache-Control": "public, max-age=300"})
