"""Schemathesis hooks for tests/e2e/test_fuzz_contract.py (loaded by the CLI from
``SCHEMATHESIS_HOOKS``; not a test module).

The Stripe webhook authenticates by an HMAC of the raw body, which no generator can guess:
each generated JSON event is signed, as Stripe signs it, with the stack's webhook secret
(``STRIPE_WEBHOOK_SECRET``), so fuzzing reaches the handler instead of stopping at the
signature check. Bodies that are not JSON objects (the negative cases) go as generated.

``DELETE /account`` really deletes its caller: each call goes as a new user of the Auth
emulator, so the run's own user lives to the end.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import Any

import schemathesis

WEBHOOK = "POST /stripe-webhook"
DELETE_ACCOUNT = "DELETE /account"


def fresh_user_token() -> str:
    """A new signed-in user of the Auth emulator (its ID token)."""
    import uuid

    import requests

    host = os.environ["FIREBASE_AUTH_EMULATOR_HOST"]
    email = f"fuzz-delete-{uuid.uuid4().hex[:12]}@example.test"
    response = requests.post(
        f"http://{host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=local-api-key",
        json={"email": email, "password": "correct horse battery", "returnSecureToken": True},
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["idToken"])


def _fresh_user_auth(request: Any) -> Any:
    if str(request.headers.get("Authorization", "")).startswith("Bearer "):
        request.headers["Authorization"] = f"Bearer {fresh_user_token()}"
    return request


@schemathesis.hook
def before_call(ctx: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if case.operation.label == DELETE_ACCOUNT:
        # A valid request really deletes its caller, who must not be the user the rest of the
        # run signs in as: each call goes as a new user instead (requests applies ``auth``
        # last, over the CLI's header). A call without a bearer token is left as it is.
        kwargs["auth"] = _fresh_user_auth
        return
    if case.operation.label != WEBHOOK or not isinstance(case.body, dict):
        return
    secret = os.environ["STRIPE_WEBHOOK_SECRET"].split(",")[0].strip()
    payload = json.dumps(case.body).encode()
    stamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    kwargs["data"] = payload  # sent as signed, not serialized again
    case.headers = {**(case.headers or {}), "Stripe-Signature": f"t={stamp},v1={signature}"}
