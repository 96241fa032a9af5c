"""Signed ID tokens, verified the production way (not the emulator's unsigned path).

Google's public certificates are served by a local HTTP server speaking the same wire
format (``{kid: PEM certificate}``), and firebase-admin's verifier is pointed at it; the
real verification code (google-auth RS256) then runs. A token signed by the key behind
the served certificate is accepted; a forged one (another key, same kid) is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import firebase_admin.auth
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt
from google.auth import jwt as google_jwt

from aksio import errors
from aksio.auth import firebase_app, verify

KID = "test-key-1"


def _key_and_cert() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securetoken.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def signing() -> Iterator[tuple[crypt.RSASigner, crypt.RSASigner, str]]:
    key, cert_pem = _key_and_cert()
    forger_key, _ = _key_and_cert()
    body = json.dumps({KID: cert_pem.decode()}).encode()

    class Certs(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "public, max-age=60")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Certs)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def signer(k: rsa.RSAPrivateKey) -> crypt.RSASigner:
        pem = k.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return crypt.RSASigner.from_string(pem, key_id=KID)

    yield signer(key), signer(forger_key), f"http://127.0.0.1:{server.server_port}/certs"
    server.shutdown()


@pytest.fixture
def production_verifier(monkeypatch: pytest.MonkeyPatch, signing: tuple[object, object, str]) -> None:
    # The auth client is made (once per app) with emulator credentials, so no Google
    # credentials are needed; verification itself then takes the production path.
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", os.environ.get("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9"))
    client = firebase_admin.auth._get_client(firebase_app())
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST")
    monkeypatch.setattr(client._token_verifier.id_token_verifier, "cert_url", signing[2])


def token(signer: crypt.RSASigner, **over: object) -> str:
    now = int(time.time())
    project = firebase_app().project_id
    claims = {
        "iss": f"https://securetoken.google.com/{project}",
        "aud": project,
        "sub": "uid-123",
        "iat": now - 5,
        "exp": now + 3600,
        "auth_time": now - 5,
        "email": "ada@example.test",
    } | over
    return google_jwt.encode(signer, claims).decode()


@pytest.mark.usefixtures("production_verifier")
def test_genuine_token_is_accepted(signing: tuple[crypt.RSASigner, crypt.RSASigner, str]) -> None:
    caller = verify(f"Bearer {token(signing[0])}")
    assert (caller.uid, caller.email) == ("uid-123", "ada@example.test")


@pytest.mark.usefixtures("production_verifier")
def test_forged_signature_is_refused(signing: tuple[crypt.RSASigner, crypt.RSASigner, str]) -> None:
    with pytest.raises(errors.Unauthenticated) as raised:
        verify(f"Bearer {token(signing[1])}")
    assert raised.value.code == "unauthenticated"


@pytest.mark.usefixtures("production_verifier")
def test_expired_and_foreign_signed_tokens_are_refused(signing: tuple[crypt.RSASigner, crypt.RSASigner, str]) -> None:
    with pytest.raises(errors.Unauthenticated) as raised:
        verify(f"Bearer {token(signing[0], iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)}")
    assert raised.value.code == "token_expired"
    with pytest.raises(errors.Unauthenticated):
        verify(f"Bearer {token(signing[0], aud='another-project')}")
