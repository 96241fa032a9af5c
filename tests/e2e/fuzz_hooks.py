"""Schemathesis hooks for tests/e2e/test_fuzz_contract.py (loaded by the CLI from
``SCHEMATHESIS_HOOKS``; not a test module).

The Stripe webhook authenticates by an HMAC of the raw body, which no generator can guess:
each generated JSON event is signed, as Stripe signs it, with the stack's webhook secret
(``STRIPE_WEBHOOK_SECRET``), so fuzzing reaches the handler instead of stopping at the
signature check. Bodies that are not JSON objects (the negative cases) go as generated.
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


@schemathesis.hook
def before_call(ctx: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if case.operation.label != WEBHOOK or not isinstance(case.body, dict):
        return
    secret = os.environ["STRIPE_WEBHOOK_SECRET"].split(",")[0].strip()
    payload = json.dumps(case.body).encode()
    stamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    kwargs["data"] = payload  # sent as signed, not serialized again
    case.headers = {**(case.headers or {}), "Stripe-Signature": f"t={stamp},v1={signature}"}
