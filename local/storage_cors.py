"""The upload bucket's CORS configuration, applied as Cloud Storage's XML API applies it.

The rule (methods, response headers, max age) is ``terraform/modules/storage/cors.json``, the
one file terraform's ``cors`` block of the upload bucket reads too; the origins are given
apart (terraform: ``var.allowed_origins``; locally the stack passes the web app's origins).
Field names are the JSON API's (``method``, ``responseHeader``, ``maxAgeSeconds``).

- A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) whose
  origin, method and every requested header (case-insensitive) are in the rule → 200 with
  ``Access-Control-Allow-Origin`` (the origin), ``-Allow-Methods``, ``-Allow-Headers``,
  ``-Max-Age``; any of them not in the rule → 403, with no CORS header, so the browser
  stops there. (GCS judges requested headers against ``responseHeader``: a header a signed
  URL needs that is not listed there makes every browser upload fail.)
- Any other request with an ``Origin`` of the rule and a method of the rule: its response,
  refusals included, carries ``Access-Control-Allow-Origin``, ``Access-Control-Expose-Headers``
  (``responseHeader``) and ``Vary: Origin``, so a script can read a 400 EntityTooLarge or a
  403 SignatureDoesNotMatch; with another origin, none of them (the browser hides the answer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_RULE = Path(__file__).resolve().parent.parent / "terraform" / "modules" / "storage" / "cors.json"


@dataclass(frozen=True)
class Cors:
    origins: tuple[str, ...]
    methods: tuple[str, ...]
    response_headers: tuple[str, ...]
    max_age: int

    @classmethod
    def load(cls, path: Path, origins: list[str]) -> Cors:
        rule = json.loads(path.read_text())
        return cls(
            origins=tuple(origins),
            methods=tuple(m.upper() for m in rule["method"]),
            response_headers=tuple(rule["responseHeader"]),
            max_age=int(rule["maxAgeSeconds"]),
        )

    def origin_allowed(self, origin: str | None) -> bool:
        return bool(origin) and ("*" in self.origins or origin in self.origins)

    def method_allowed(self, method: str) -> bool:
        return "*" in self.methods or method.upper() in self.methods

    def headers_allowed(self, requested: str) -> bool:
        listed = {h.lower() for h in self.response_headers}
        return all(h.strip().lower() in listed for h in requested.split(",") if h.strip())

    def preflight(self, headers: Any) -> tuple[int, list[tuple[str, str]]]:
        """The status and CORS headers of the answer to an ``OPTIONS`` request."""
        origin = headers.get("Origin")
        method = headers.get("Access-Control-Request-Method") or ""
        requested = headers.get("Access-Control-Request-Headers") or ""
        if not (self.origin_allowed(origin) and method and self.method_allowed(method)):
            return 403, []
        if not self.headers_allowed(requested):
            return 403, []
        return 200, [
            ("Access-Control-Allow-Origin", str(origin)),
            ("Access-Control-Allow-Methods", ",".join(self.methods)),
            ("Access-Control-Allow-Headers", ",".join(self.response_headers)),
            ("Access-Control-Max-Age", str(self.max_age)),
            ("Vary", "Origin"),
        ]

    def actual(self, method: str, headers: Any) -> list[tuple[str, str]]:
        """The CORS headers of the answer to a request other than a preflight."""
        origin = headers.get("Origin")
        if not (self.origin_allowed(origin) and self.method_allowed(method)):
            return [("Vary", "Origin")] if origin else []
        return [
            ("Access-Control-Allow-Origin", str(origin)),
            ("Access-Control-Expose-Headers", ",".join(self.response_headers)),
            ("Vary", "Origin"),
        ]
