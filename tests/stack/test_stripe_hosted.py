"""The local Stripe's webhook deliveries (local/stripe_hosted.py), to a real HTTP endpoint:
signed as Stripe signs (``t=…,v1=HMAC-SHA256(secret, "t.payload")``, checked here with the
backend's own verifier), retried on failure, and delivered to an endpoint that comes up late."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from stripe_hosted import Webhooks, webhooks_from_args

from aksio.billing import signature
from tests.stack.conftest import Receiver, free_port, wait_until

SECRET = "whsec_test_hosted"


def event(n: int = 1) -> dict[str, object]:
    return {"id": f"evt_{n}", "type": "checkout.session.completed", "data": {"object": {"id": f"cs_test_{n}"}}}


def test_an_event_is_signed_as_stripe_signs_and_retried_until_accepted(receiver: Receiver) -> None:
    receiver.script = [500, 503]
    hooks = Webhooks([(f"{receiver.url}/stripe-webhook", SECRET)])
    hooks.deliver(event())
    wait_until(lambda: receiver.statuses() == [500, 503, 200], 20, "three attempts, the last accepted")
    for received in receiver.requests:
        assert received.path == "/stripe-webhook"
        assert received.headers["content-type"].startswith("application/json")
        signature.verify(received.body, received.headers["stripe-signature"], (SECRET,))  # raises if not
        assert received.json() == event()
        with pytest.raises(signature.InvalidSignature):
            signature.verify(received.body, received.headers["stripe-signature"], ("whsec_other",))
    wait_until(lambda: len(hooks.listing()["data"][0]["deliveries"]) == 3, 5, "the third delivery recorded")
    [record] = hooks.listing()["data"]
    assert (record["id"], record["object"]) == ("evt_1", "cs_test_1")
    assert [d["status"] for d in record["deliveries"]] == [500, 503, 200]


def test_an_endpoint_not_up_yet_gets_the_event_once_it_is() -> None:
    port = free_port()
    hooks = Webhooks([(f"http://127.0.0.1:{port}/stripe-webhook", SECRET)])
    hooks.deliver(event(2))

    def first_attempt_failed() -> bool:
        deliveries = hooks.listing()["data"][0]["deliveries"]
        return bool(deliveries) and deliveries[0]["status"] == 0

    wait_until(first_attempt_failed, 10, "a first attempt without connection")
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            signature.verify(body, self.headers["Stripe-Signature"], (SECRET,))
            bodies.append(body)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        wait_until(lambda: bool(bodies), 30, "the delivery once the endpoint is up")
        assert json.loads(bodies[0]) == event(2)
    finally:
        server.shutdown()
        server.server_close()


def test_the_secret_comes_from_the_environment_first_of_a_rotation() -> None:
    hooks = webhooks_from_args(["http://h.test/stripe-webhook=HOOK_SECRET"], {"HOOK_SECRET": "whsec_a,whsec_b"})
    assert hooks.endpoints == [("http://h.test/stripe-webhook", "whsec_a")]
    with pytest.raises(SystemExit, match="HOOK_SECRET"):
        webhooks_from_args(["http://h.test/stripe-webhook=HOOK_SECRET"], {})
