"""The local stack's Cloud Storage: a front that checks V4 signed URLs as GCS does, in front of
``gcp-storage-emulator`` for everything else.

``local/stack serve-storage`` (:mod:`stack.storage_server`) runs the emulator on a private
loopback port and this front on the storage component's port (``STORAGE_EMULATOR_HOST``), so
the signed upload URLs create-upload makes point here and a browser's PUT is refused where
GCS would refuse it. A request carrying ``X-Goog-Signature`` in its query is checked:

- the query-string parameters of V4 (``X-Goog-Algorithm=GOOG4-RSA-SHA256``,
  ``X-Goog-Credential``, ``X-Goog-Date``, ``X-Goog-Expires`` at most 604800,
  ``X-Goog-SignedHeaders``): missing or malformed → 400 ``AuthorizationQueryParametersError``
  / ``MalformedSecurityHeader``;
- expiry: ``X-Goog-Date`` + ``X-Goog-Expires`` passed → 400 ``ExpiredToken``; a date more than
  the allowed skew in the future → 400 ``RequestNotYetValid``... as GCS, see README;
- the signature: the canonical request is rebuilt from the request as it arrived (method, path,
  the query without the signature, each signed header's *received* value, ``UNSIGNED-PAYLOAD``)
  and the RSA-SHA256 signature checked with the public key of the credential's account: any
  signed header absent or with another value (a Content-Type other than the signed one, a
  changed ``x-goog-content-length-range``...), a changed path or query, a tampered signature
  or an unknown account → 403 ``SignatureDoesNotMatch``;
- ``x-goog-content-length-range: min,max`` against the body's length → 400 ``EntityTooSmall``
  / ``EntityTooLarge``;
- ``x-goog-if-generation-match`` (``0``: the object must not exist; ``N``: its generation must
  be N) → 412 ``PreconditionFailed``. PUTs of one object are serialised here, so two PUTs
  of one ``if-generation-match: 0`` URL give one 200 and one 412, as on GCS.

CORS, as GCS applies a bucket's CORS configuration (:mod:`storage_cors`: the rule of
``terraform/modules/storage/cors.json``, the origins of ``--cors-origin``): a preflight
``OPTIONS`` is answered here (200 with the ``Access-Control-Allow-*`` headers, or 403), and
every other answer, refusals included, carries ``Access-Control-Allow-Origin`` for an origin
and method of the rule. No ``--cors-origin``: no CORS configuration (every preflight 403).

Refusals are GCS's XML errors (``<Error><Code>…</Code><Message>…</Message>…</Error>``,
``application/xml``). Requests without a signature (the JSON API the client libraries use
against the emulator) are passed through unchecked, except the JSON API's
``ifGenerationMatch`` on an upload, which is checked as the header is. Standard library and
``cryptography`` only.

Run alone (the stack does this for you)::

    python local/storage_front.py --upstream http://127.0.0.1:9024 --port 9023 \\
        --signer local-signer@demo-aksio.iam.gserviceaccount.com=/path/signer.pub.pem \\
        --cors-origin http://localhost:5173
"""

from __future__ import annotations

import argparse
import binascii
import contextlib
import hashlib
import http.client
import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.sax.saxutils import escape

from storage_cors import DEFAULT_RULE, Cors

ALGORITHM = "GOOG4-RSA-SHA256"
MAX_EXPIRES = 604800  # 7 days, GCS's limit for V4
CLOCK_SKEW = 900  # seconds a X-Goog-Date may be ahead of the server's clock
REQUIRED = (
    "X-Goog-Algorithm",
    "X-Goog-Credential",
    "X-Goog-Date",
    "X-Goog-Expires",
    "X-Goog-SignedHeaders",
    "X-Goog-Signature",
)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
_DATE = re.compile(r"^\d{8}T\d{6}Z$")


class Refusal(Exception):
    """A request GCS would refuse: its status, XML error code, message and details."""

    def __init__(self, status: int, code: str, message: str, details: str = "", **extra: str) -> None:
        super().__init__(f"{status} {code}")
        self.status, self.code, self.message, self.details, self.extra = status, code, message, details, extra

    def xml(self) -> bytes:
        parts = [f"<Code>{escape(self.code)}</Code>", f"<Message>{escape(self.message)}</Message>"]
        if self.details:
            parts.append(f"<Details>{escape(self.details)}</Details>")
        parts += [f"<{k}>{escape(v)}</{k}>" for k, v in self.extra.items()]
        return ("<?xml version='1.0' encoding='UTF-8'?><Error>" + "".join(parts) + "</Error>").encode()


def load_public_key(pem: bytes) -> Any:
    """An RSA public key from a PEM public key, certificate, or private key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    if b"CERTIFICATE" in pem:
        return x509.load_pem_x509_certificate(pem).public_key()
    if b"PRIVATE KEY" in pem:
        return serialization.load_pem_private_key(pem, password=None).public_key()
    return serialization.load_pem_public_key(pem)


def canonical_query(pairs: list[tuple[str, str]]) -> str:
    """The query as GCS canonicalises it: every parameter but the signature, encoded, sorted."""
    return "&".join(sorted(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs if k != "X-Goog-Signature"))


def canonical_headers(names: list[str], headers: Any) -> str:
    lines = []
    for name in names:
        values = headers.get_all(name) or []
        lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}")
    return "\n".join(lines) + "\n"


def string_to_sign(method: str, path: str, query: list[tuple[str, str]], headers: Any, params: dict[str, str]) -> str:
    names = params["X-Goog-SignedHeaders"].split(";")
    payload = headers.get("x-goog-content-sha256") if "x-goog-content-sha256" in names else None
    canonical = "\n".join(
        [
            method,
            path,
            canonical_query(query),
            canonical_headers(names, headers),
            params["X-Goog-SignedHeaders"],
            payload or "UNSIGNED-PAYLOAD",
        ]
    )
    scope = params["X-Goog-Credential"].split("/", 1)[1]
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return "\n".join([ALGORITHM, params["X-Goog-Date"], scope, digest])


def check_signed(
    method: str, raw_path: str, headers: Any, keys: dict[str, Any], now: float | None = None
) -> dict[str, str]:
    """Check a V4 signed request as GCS does; its query parameters, or :class:`Refusal`."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    path, _, raw_query = raw_path.partition("?")
    query = parse_qsl(raw_query, keep_blank_values=True)
    params = dict(query)
    missing = [p for p in REQUIRED if not params.get(p)]
    if missing:
        raise Refusal(
            400,
            "AuthorizationQueryParametersError",
            "Query-string authentication version 4 requires the X-Goog-Algorithm, X-Goog-Credential, "
            "X-Goog-Signature, X-Goog-Date, X-Goog-SignedHeaders and X-Goog-Expires parameters.",
        )
    if params["X-Goog-Algorithm"] != ALGORITHM:
        raise Refusal(400, "AuthorizationQueryParametersError", f"Unsupported algorithm {params['X-Goog-Algorithm']}.")
    credential = params["X-Goog-Credential"].split("/")
    if len(credential) != 5 or credential[4] != "goog4_request" or credential[3] != "storage":
        raise Refusal(400, "AuthorizationQueryParametersError", "Invalid credential scope in X-Goog-Credential.")
    if not _DATE.match(params["X-Goog-Date"]) or credential[1] != params["X-Goog-Date"][:8]:
        raise Refusal(400, "MalformedSecurityHeader", "Your request has a malformed header.", "X-Goog-Date")
    try:
        expires = int(params["X-Goog-Expires"])
    except ValueError:
        raise Refusal(
            400, "MalformedSecurityHeader", "Your request has a malformed header.", "X-Goog-Expires"
        ) from None
    if not 1 <= expires <= MAX_EXPIRES:
        raise Refusal(
            400, "AuthorizationQueryParametersError", "X-Goog-Expires must be between 1 and 604800 (seconds)."
        )
    signed_at = datetime.strptime(params["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    now = time.time() if now is None else now
    if now > signed_at + expires:
        raise Refusal(400, "ExpiredToken", "The provided token has expired.", f"Request has expired: {expires}")
    if signed_at > now + CLOCK_SKEW:
        raise Refusal(400, "RequestNotYetValid", "The request is not yet valid.", "X-Goog-Date is in the future")
    names = params["X-Goog-SignedHeaders"].split(";")
    if "host" not in names or names != sorted(names):
        raise Refusal(400, "AuthorizationQueryParametersError", "X-Goog-SignedHeaders must include host, sorted.")
    text = string_to_sign(method, path, query, headers, params)
    mismatch = Refusal(
        403,
        "SignatureDoesNotMatch",
        "Access denied.",
        "The request signature we calculated does not match the signature you provided. "
        "Check your Google secret key and signing method.",
        StringToSign=text,
    )
    key = keys.get(unquote(credential[0]))
    try:
        signature = binascii.unhexlify(params["X-Goog-Signature"])
    except (binascii.Error, ValueError):
        raise mismatch from None
    if key is None:
        raise mismatch
    try:
        key.verify(signature, text.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise mismatch from None
    return params


def check_length(headers: Any, length: int) -> None:
    """``x-goog-content-length-range: min,max`` against the body's length."""
    value = headers.get("x-goog-content-length-range")
    if value is None:
        return
    try:
        low, high = (int(v) for v in value.split(","))
    except ValueError:
        raise Refusal(400, "InvalidArgument", "Invalid argument.", "Invalid x-goog-content-length-range") from None
    if length < low:
        raise Refusal(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum object size specified.")
    if length > high:
        raise Refusal(400, "EntityTooLarge", "Your proposed upload is larger than the maximum object size specified.")


class StorageFront:
    """The front: a threading HTTP server on ``host:port`` in front of ``upstream``."""

    def __init__(
        self,
        upstream: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        signers: dict[str, Any],
        cors: Cors | None = None,
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.host, self.port = host, port
        self.keys = signers
        self.cors = cors or Cors((), (), (), 0)
        self.server: ThreadingHTTPServer | None = None
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> StorageFront:
        self.server = ThreadingHTTPServer((self.host, self.port), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, name="storage-front", daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @contextlib.contextmanager
    def object_lock(self, key: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield

    def upstream_call(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def generation(self, bucket: str, name: str) -> int:
        """The object's live generation, 0 when there is none."""
        status, _, body = self.upstream_call("GET", f"/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}")
        if status == 404:
            return 0
        if status != 200:
            raise Refusal(503, "ServiceUnavailable", "Please try again.", f"emulator answered {status}")
        return int(json.loads(body).get("generation") or 1)

    def check_generation(self, bucket: str, name: str, wanted: str | None) -> None:
        if wanted is None:
            return
        try:
            expected = int(wanted)
        except ValueError:
            raise Refusal(400, "InvalidArgument", "Invalid argument.", "Invalid if-generation-match") from None
        if self.generation(bucket, name) != expected:
            raise Refusal(
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold.",
                "Precondition Failed",
            )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt: str, *args: Any) -> None:
                print(f"storage-front: {self.command} {self.path.split('?')[0]} {fmt % args}", flush=True)

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                if self.command != "OPTIONS":
                    for name, value in front.cors.actual(self.command, self.headers):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _refuse(self, refusal: Refusal) -> None:
                self.log_message("refused %s %s", refusal.status, refusal.code)
                self._answer(refusal.status, [("Content-Type", "application/xml; charset=UTF-8")], refusal.xml())

            def _forward(self, body: bytes) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["Content-Length"] = str(len(body))
                status, answer_headers, answer = front.upstream_call(self.command, self.path, headers, body)
                self._answer(status, answer_headers, answer)

            def _handle(self) -> None:
                body = self._body()
                path, _, raw_query = self.path.partition("?")
                query = dict(parse_qsl(raw_query, keep_blank_values=True))
                try:
                    if "X-Goog-Signature" in query:
                        check_signed(self.command, self.path, self.headers, front.keys)
                        check_length(self.headers, len(body))
                        match = self.headers.get("x-goog-if-generation-match")
                        bucket, _, name = unquote(path).lstrip("/").partition("/")
                    elif self.command in ("POST", "PUT") and "ifGenerationMatch" in query and "name" in query:
                        match = query["ifGenerationMatch"]
                        bucket, name = unquote(path).split("/b/", 1)[1].split("/", 1)[0], query["name"]
                    else:
                        self._forward(body)
                        return
                    if match is None or not name:
                        self._forward(body)
                        return
                    with front.object_lock(f"{bucket}/{name}"):
                        front.check_generation(bucket, name, match)
                        self._forward(body)
                except Refusal as refusal:
                    self._refuse(refusal)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _handle

            def do_OPTIONS(self) -> None:
                self._body()
                status, headers = front.cors.preflight(self.headers)
                if status == 200:
                    self._answer(200, headers, b"")
                else:
                    self.log_message("refused preflight from %s", self.headers.get("Origin") or "no origin")
                    self._answer(status, [("Content-Type", "text/html; charset=UTF-8")], b"")

        return Handler


def signers_from_args(values: list[str]) -> dict[str, Any]:
    keys = {}
    for value in values:
        email, _, path = value.partition("=")
        keys[email] = load_public_key(Path(path).read_bytes())
    return keys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="the storage emulator's URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9023)
    parser.add_argument("--signer", action="append", default=[], help="EMAIL=PEM (public key, certificate or key)")
    parser.add_argument("--cors-origin", action="append", default=[], help="origin allowed by CORS (repeatable)")
    parser.add_argument("--cors-rule", type=Path, default=DEFAULT_RULE, help="the CORS rule (terraform's cors.json)")
    args = parser.parse_args(argv)
    cors = Cors.load(args.cors_rule, args.cors_origin)
    signers = signers_from_args(args.signer)
    front = StorageFront(args.upstream, host=args.host, port=args.port, signers=signers, cors=cors).start()
    print(f"storage front listening on {front.url}", flush=True)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
