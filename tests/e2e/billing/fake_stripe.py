"""A local HTTP server speaking Stripe's wire format for what localstripe lacks, so the real
``stripe`` client runs against it: Checkout Sessions, Billing Portal sessions and Prices.
Every other request is proxied unchanged to localstripe (customers, subscriptions, plans...).

Like Stripe, it honours ``Idempotency-Key`` on POST (localstripe ignores it): the first
response under a key is stored and replayed, and concurrent requests with one key wait for the
first. ``/_test/checkout/{id}/complete`` plays the customer paying on the hosted page: a card
is attached, the subscription created in localstripe, the session completed, and the
``checkout.session.completed`` event's payload returned (unsigned; the test signs it).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests


def decode_form(body: str) -> dict[str, Any]:
    """``a[b][0][c]=x`` → ``{"a": {"b": [{"c": "x"}]}}`` (Stripe's form encoding)."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt: Any = value if last else ([] if parts[i + 1].isdigit() else {})
            if isinstance(node, list):
                idx = int(part)
                while len(node) <= idx:
                    node.append(None)
                if node[idx] is None or last:
                    node[idx] = nxt
                node = node[idx]
            else:
                if part not in node or last:
                    node[part] = nxt
                node = node[part]
    return out


def _error(status: int, message: str, param: str | None = None) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"type": "invalid_request_error", "message": message, "param": param}}


class FakeStripe:
    def __init__(self, upstream: str, prices: dict[str, dict[str, Any]]) -> None:
        self.upstream = upstream.rstrip("/")
        self.prices = prices
        self.sessions: dict[str, dict[str, Any]] = {}
        self.portal_sessions: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self._idem: dict[str, tuple[int, bytes]] = {}
        self._idem_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeStripe:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls(self, method: str, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == method and r["path"] == path]

    # -- what localstripe lacks ---------------------------------------------------------

    def _customer_exists(self, auth: str, customer: str) -> bool:
        r = requests.get(f"{self.upstream}/v1/customers/{customer}", headers={"Authorization": auth}, timeout=10)
        return r.status_code == 200 and not r.json().get("deleted")

    def create_checkout_session(self, auth: str, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if form.get("mode") not in ("payment", "subscription", "setup"):
            return _error(400, "Invalid mode", "mode")
        for field in ("success_url",):
            if not form.get(field):
                return _error(400, f"Missing required param: {field}.", field)
        items = form.get("line_items") or []
        if not items or not isinstance(items, list):
            return _error(400, "line_items is required in subscription mode", "line_items")
        for i, item in enumerate(items):
            if item.get("price") not in self.prices:
                return _error(400, f"No such price: '{item.get('price')}'", f"line_items[{i}][price]")
        customer = form.get("customer")
        if customer and not self._customer_exists(auth, customer):
            return _error(400, f"No such customer: '{customer}'", "customer")
        sid = "cs_test_" + secrets.token_hex(16)
        now = int(time.time())
        session = {
            "id": sid,
            "object": "checkout.session",
            "mode": form["mode"],
            "customer": customer,
            "client_reference_id": form.get("client_reference_id"),
            "success_url": form.get("success_url"),
            "cancel_url": form.get("cancel_url"),
            "metadata": form.get("metadata") or {},
            "status": "open",
            "payment_status": "unpaid",
            "subscription": None,
            "livemode": False,
            "created": now,
            "expires_at": now + 86400,
            "url": f"{self.url}/c/pay/{sid}",
            "_line_items": items,
            "_subscription_data": form.get("subscription_data") or {},
        }
        self.sessions[sid] = session
        return 200, self._public(session)

    @staticmethod
    def _public(session: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in session.items() if not k.startswith("_")}

    def create_portal_session(self, auth: str, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        customer = form.get("customer")
        if not customer:
            return _error(400, "Missing required param: customer.", "customer")
        if not self._customer_exists(auth, customer):
            return _error(400, f"No such customer: '{customer}'", "customer")
        pid = "bps_" + secrets.token_hex(12)
        session = {
            "id": pid,
            "object": "billing_portal.session",
            "customer": customer,
            "return_url": form.get("return_url"),
            "livemode": False,
            "created": int(time.time()),
            "url": f"{self.url}/p/session/{pid}",
        }
        self.portal_sessions[pid] = session
        return 200, session

    def complete_checkout(self, auth: str, sid: str) -> tuple[int, dict[str, Any]]:
        """The customer pays: a card, the subscription (in localstripe), the completed session."""
        session = self.sessions.get(sid)
        if session is None:
            return _error(404, f"No such checkout.session: '{sid}'")
        headers = {"Authorization": auth}
        customer = session["customer"]
        card = {"type": "card", "card[number]": "4242424242424242", "card[exp_month]": "12", "card[exp_year]": "2035"}
        card["card[cvc]"] = "123"
        pm = requests.post(f"{self.upstream}/v1/payment_methods", data=card, headers=headers, timeout=10).json()
        requests.post(
            f"{self.upstream}/v1/payment_methods/{pm['id']}/attach",
            data={"customer": customer},
            headers=headers,
            timeout=10,
        ).raise_for_status()
        requests.post(
            f"{self.upstream}/v1/customers/{customer}",
            data={"invoice_settings[default_payment_method]": pm["id"]},
            headers=headers,
            timeout=10,
        ).raise_for_status()
        data: dict[str, str] = {"customer": customer}
        for i, item in enumerate(session["_line_items"]):
            data[f"items[{i}][plan]"] = item["price"]  # localstripe has legacy plans under the price id
        for key, value in (session["_subscription_data"].get("metadata") or {}).items():
            data[f"metadata[{key}]"] = value
        sub = requests.post(f"{self.upstream}/v1/subscriptions", data=data, headers=headers, timeout=10)
        sub.raise_for_status()
        session.update(status="complete", payment_status="paid", subscription=sub.json()["id"])
        return 200, {
            "session": self._public(session),
            "subscription": sub.json(),
            "event": {
                "id": "evt_" + secrets.token_hex(12),
                "object": "event",
                "api_version": "2026-10-28.endive",
                "created": int(time.time()),
                "type": "checkout.session.completed",
                "data": {"object": self._public(session)},
                "livemode": False,
                "pending_webhooks": 1,
            },
        }

    # -- HTTP ---------------------------------------------------------------------------

    def route(self, method: str, path: str, auth: str, form: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        if method == "POST" and path == "/v1/checkout/sessions":
            return self.create_checkout_session(auth, form)
        if method == "GET" and path.startswith("/v1/checkout/sessions/"):
            session = self.sessions.get(path.rsplit("/", 1)[1])
            return (200, self._public(session)) if session else _error(404, "No such checkout.session")
        if method == "POST" and path == "/v1/billing_portal/sessions":
            return self.create_portal_session(auth, form)
        if method == "GET" and path.startswith("/v1/prices/"):
            price = self.prices.get(path.rsplit("/", 1)[1])
            return (200, price) if price else _error(404, "No such price")
        match = re.fullmatch(r"/_test/checkout/([^/]+)/complete", path)
        if method == "POST" and match:
            return self.complete_checkout(auth, match.group(1))
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, replayed: bool = False) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Request-Id", "req_" + secrets.token_hex(8))
                if replayed:
                    self.send_header("Idempotent-Replayed", "true")
                self.end_headers()
                self.wfile.write(body)

            def _serve(self, method: str) -> None:
                split = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                form = decode_form(raw.decode()) if raw else {}
                auth = self.headers.get("Authorization", "")
                key = self.headers.get("Idempotency-Key") if method == "POST" else None
                fake.requests.append(
                    {"method": method, "path": split.path, "form": form, "idempotency_key": key, "time": time.time()}
                )
                if not auth.startswith("Bearer sk_"):
                    status, payload = _error(401, "Invalid API Key provided")
                    self._send(status, json.dumps(payload).encode())
                    return
                if key is None:
                    self._send(*self._answer(method, split, auth, form, raw))
                    return
                with fake._lock:
                    lock = fake._idem_locks.setdefault(key, threading.Lock())
                with lock:  # concurrent requests with one key: the first answers, the others replay
                    if key in fake._idem:
                        self._send(*fake._idem[key], replayed=True)
                        return
                    answer = self._answer(method, split, auth, form, raw)
                    if answer[0] < 500:
                        fake._idem[key] = answer
                self._send(*answer)

            def _answer(
                self, method: str, split: Any, auth: str, form: dict[str, Any], raw: bytes
            ) -> tuple[int, bytes]:
                routed = fake.route(method, split.path, auth, form)
                if routed is not None:
                    return routed[0], json.dumps(routed[1]).encode()
                url = fake.upstream + split.path + (f"?{split.query}" if split.query else "")
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                r = requests.request(method, url, data=raw or None, headers=headers, timeout=30)
                return r.status_code, r.content

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

        return Handler
