"""Google-style OIDC identity tokens for the local stack, and the certificates that check them.

Cloud Tasks (and Cloud Scheduler) call an HTTP target with an ID token Google signs for the
task's service account: a JWT (RS256) whose header names the signing key (``kid``) and whose
claims are ``iss: https://accounts.google.com``, ``aud`` (the audience asked for, else the
URL), ``azp`` and ``sub`` (the account's id), ``email``, ``email_verified: true``, ``iat``
and ``exp`` (one hour). Whoever receives it checks it against Google's certificates,
``https://www.googleapis.com/oauth2/v1/certs`` (``{kid: PEM certificate}``).

:class:`Issuer` does the same with a key made at start: :meth:`Issuer.mint` signs such a
token and :class:`CertServer` serves the matching certificates at ``/oauth2/v1/certs`` (with
``Cache-Control: public, max-age=...`` as Google's), so the code under test verifies tokens
exactly as in production, only against another certificates URL. ``POST /_test/token``
``{"email", "audience"}`` answers ``{"token"}`` (local only, like IAM's generateIdToken for a
caller allowed to act as the account): tests calling a target directly use it.
``cryptography`` and ``google-auth`` only.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GOOGLE_ISSUER = "https://accounts.google.com"
CERTS_PATH = "/oauth2/v1/certs"
TOKEN_PATH = "/_test/token"  # noqa: S105 - a path
TOKEN_LIFETIME = 3600


class Issuer:
    """A signing key with its self-signed certificate, minting Google-style ID tokens."""

    def __init__(self, issuer: str = GOOGLE_ISSUER) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID
        from google.auth import crypt

        self.issuer = issuer
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "local-oidc-issuer")])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256())
        )
        self.certificate = cert.public_bytes(serialization.Encoding.PEM).decode()
        self.kid = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()  # noqa: S324 - an id
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self._signer = crypt.RSASigner.from_string(pem, key_id=self.kid)

    def certs(self) -> dict[str, str]:
        return {self.kid: self.certificate}

    def mint(self, email: str, audience: str, *, now: float | None = None, **overrides: Any) -> str:
        """An ID token for the service account ``email`` with ``audience``."""
        from google.auth import jwt

        issued = int(time.time() if now is None else now)
        subject = str(int(hashlib.sha256(email.encode()).hexdigest()[:20], 16))
        claims = {
            "iss": self.issuer,
            "aud": audience,
            "azp": subject,
            "sub": subject,
            "email": email,
            "email_verified": True,
            "iat": issued,
            "exp": issued + TOKEN_LIFETIME,
        }
        claims.update(overrides)
        return jwt.encode(self._signer, claims).decode()  # type: ignore[no-untyped-call]


class CertServer:
    """Serves an issuer's certificates over HTTP, as Google's certs endpoint does."""

    def __init__(self, issuer: Issuer, host: str = "127.0.0.1", port: int = 0, max_age: int = 300) -> None:
        self.issuer, self.max_age = issuer, max_age
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != CERTS_PATH:
                    self.send_error(404)
                    return
                server.requests += 1
                body = json.dumps(server.issuer.certs(), indent=2).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Cache-Control", f"public, max-age={server.max_age}, must-revalidate, no-transform")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                # Local only: a token as Google's IAM generateIdToken would give a caller that may
                # act as the account (tests calling a target directly, as a task would).
                if self.path.split("?")[0] != TOKEN_PATH:
                    self.send_error(404)
                    return
                try:
                    asked = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                    token = server.issuer.mint(str(asked["email"]), str(asked["audience"]))
                except (ValueError, KeyError, TypeError):
                    self.send_error(400, "want JSON {email, audience}")
                    return
                body = json.dumps({"token": token}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.host, self.port = host, self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{CERTS_PATH}"

    def start(self) -> CertServer:
        threading.Thread(target=self.httpd.serve_forever, name="oidc-certs", daemon=True).start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
