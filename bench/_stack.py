"""What the benchmarks that run under the local stack share: its settings and a signed-in user."""

from __future__ import annotations

import os
import sys
import uuid

import requests


def need(name: str) -> str:
    """A variable the stack sets; exits with a hint when the benchmark runs without it."""
    value = os.environ.get(name)
    if not value:
        sys.exit(f"{name} is not set: run under the local stack (local/stack exec -- ...)")
    return value


def sign_up(auth_host: str) -> tuple[str, dict[str, str]]:
    """A new Auth-emulator user: its uid and the headers that carry its ID token."""
    email = f"bench-{uuid.uuid4().hex[:10]}@example.test"
    r = requests.post(
        f"http://{auth_host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=bench",
        json={"email": email, "password": "bench-123", "returnSecureToken": True},
        timeout=10,
    )
    r.raise_for_status()
    return r.json()["localId"], {"Authorization": f"Bearer {r.json()['idToken']}"}
