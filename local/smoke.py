"""Post-deploy smoke test: a few calls a deployed Aksio must answer exactly so.

Checks (each printed as ``ok`` or ``FAIL`` with what was seen):

- ``health``: ``GET <health>/`` answers 200 JSON with ``"status": "ok"``;
- ``openapi``: the OpenAPI document is served (200 JSON, ``openapi`` 3.x, some ``paths``), by
  default at ``/health/openapi.json`` (where health serves it in production);
- ``unauthenticated``: ``GET <decks>/`` without a token answers 401 JSON ``unauthenticated``;
- ``webhook-unsigned``: ``POST <stripe-webhook>/`` without ``Stripe-Signature`` answers 400
  JSON ``invalid_signature`` (and so changes nothing).

Where the functions are:

- ``--base-url URL``: every function at ``URL/<name>`` (the local gateway, or
  ``https://REGION-PROJECT.cloudfunctions.net``), the document at ``URL + --openapi-path``;
- ``--terraform-outputs FILE``: ``terraform output -json`` saved in FILE; its ``function_urls``
  name each function's URL and ``api_base_url`` the base of ``--openapi-path``.

Exit status: 0 when every check passed, 1 when one failed, 2 on bad usage. Standard library
only, so it runs on any Python 3.11 (Cloud Build's builder image) without the virtualenv.

    python3 local/smoke.py --base-url http://127.0.0.1:8000
    terraform -chdir=terraform output -json > outputs.json && python3 local/smoke.py --terraform-outputs outputs.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# A function that refuses a call without a Firebase ID token (any authenticated one would do).
PROTECTED = "decks"


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class CheckFailed(Exception):
    pass


def call(
    method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None, timeout: float
) -> Answer:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, response.headers.get("Content-Type", ""), response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.headers.get("Content-Type", ""), exc.read())


def expect_json(answer: Answer, status: int) -> Any:
    if answer.status != status:
        raise CheckFailed(f"expected {status}, got {answer.status}: {answer.body[:200]!r}")
    if not answer.content_type.startswith("application/json"):
        raise CheckFailed(f"expected application/json, got {answer.content_type or 'no Content-Type'}")
    try:
        return answer.json()
    except ValueError:
        raise CheckFailed(f"the body is not JSON: {answer.body[:200]!r}") from None


def expect_error(answer: Answer, status: int, code: str) -> str:
    body = expect_json(answer, status)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or error.get("code") != code:
        raise CheckFailed(f"expected error code {code!r}, got {body!r}")
    return f"{status} {code}"


@dataclass
class Target:
    functions: dict[str, str]  # name -> URL without trailing slash
    openapi_url: str

    def url(self, name: str) -> str:
        if name not in self.functions:
            raise CheckFailed(f"no URL for function {name!r}")
        return self.functions[name]


def checks(target: Target, timeout: float) -> dict[str, Callable[[], str]]:
    def health() -> str:
        body = expect_json(call("GET", target.url("health") + "/", timeout=timeout), 200)
        if not isinstance(body, dict) or body.get("status") != "ok":
            raise CheckFailed(f"expected status ok, got {body!r}")
        return "200 status ok"

    def openapi() -> str:
        doc = expect_json(call("GET", target.openapi_url, timeout=timeout), 200)
        if not isinstance(doc, dict) or not str(doc.get("openapi", "")).startswith("3."):
            raise CheckFailed("not an OpenAPI 3 document")
        if not doc.get("paths"):
            raise CheckFailed("the document has no paths")
        return f"OpenAPI {doc['openapi']}, {len(doc['paths'])} paths"

    def unauthenticated() -> str:
        return expect_error(call("GET", target.url(PROTECTED) + "/", timeout=timeout), 401, "unauthenticated")

    def webhook_unsigned() -> str:
        answer = call(
            "POST",
            target.url("stripe-webhook") + "/",
            body=b'{"id": "evt_smoke", "type": "checkout.session.completed"}',
            headers={"Content-Type": "application/json"},
            timeout=timeout,
        )
        return expect_error(answer, 400, "invalid_signature")

    return {
        "health": health,
        "openapi": openapi,
        "unauthenticated": unauthenticated,
        "webhook-unsigned": webhook_unsigned,
    }


def target_from_base(base: str, openapi_path: str, names: list[str]) -> Target:
    base = base.rstrip("/")
    return Target({n: f"{base}/{n}" for n in names}, base + openapi_path)


def target_from_outputs(path: str, openapi_path: str) -> Target:
    with open(path, encoding="utf-8") as f:
        outputs = json.load(f)

    def value(name: str) -> Any:
        entry = outputs.get(name)
        if not isinstance(entry, dict) or "value" not in entry:
            raise SystemExit(f"smoke: {path} has no output {name!r} (terraform output -json)")
        return entry["value"]

    urls = {n: str(u).rstrip("/") for n, u in value("function_urls").items()}
    return Target(urls, str(value("api_base_url")).rstrip("/") + openapi_path)


def run(target: Target, *, timeout: float, attempts: int, wait: float) -> int:
    """Run every check (each retried up to ``attempts`` times: a fresh deploy may answer
    a few errors while its revisions roll out); 0 when all passed."""
    failed = 0
    for name, check in checks(target, timeout).items():
        for attempt in range(1, attempts + 1):
            try:
                print(f"ok    {name}: {check()}", flush=True)
                break
            except (CheckFailed, OSError) as exc:
                if attempt == attempts:
                    print(f"FAIL  {name}: {exc}", flush=True)
                    failed += 1
                else:
                    time.sleep(wait)
    print(f"smoke: {len(checks(target, timeout)) - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--base-url", help="every function at URL/<name>")
    where.add_argument("--terraform-outputs", help="a file holding `terraform output -json`")
    parser.add_argument(
        "--openapi-path",
        default="/health/openapi.json",
        help="path of the document below the base URL (health serves it in production)",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--attempts", type=int, default=3, help="tries per check before it fails")
    parser.add_argument("--wait", type=float, default=10.0, help="seconds between tries")
    args = parser.parse_args(argv)
    if args.attempts < 1:
        parser.error("--attempts must be at least 1")
    if args.base_url:
        target = target_from_base(args.base_url, args.openapi_path, ["health", PROTECTED, "stripe-webhook"])
    else:
        target = target_from_outputs(args.terraform_outputs, args.openapi_path)
    return run(target, timeout=args.timeout, attempts=args.attempts, wait=args.wait)


if __name__ == "__main__":
    sys.exit(main())
