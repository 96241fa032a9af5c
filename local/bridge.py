"""The Storage → Eventarc bridge of the local stack.

In production, Eventarc delivers ``google.cloud.storage.object.v1.finalized`` to the
``process-upload`` function whenever an object generation is written to the upload bucket.
``gcp-storage-emulator`` has no notifications, so this bridge polls the bucket (every 0.5 s
by default) and, for every ``(name, generation)`` it has not delivered yet, POSTs the
CloudEvent the way Eventarc does: binary content mode, the attributes as ``ce-*`` headers, the
object resource exactly as the JSON API returns it as the ``application/json`` body::

    ce-specversion: 1.0
    ce-id: <unique and stable per bucket, name and generation>
    ce-source: //storage.googleapis.com/projects/_/buckets/<bucket>
    ce-type: google.cloud.storage.object.v1.finalized
    ce-subject: objects/<name>
    ce-time: <the object's "updated" time>
    ce-bucket: <bucket>            (the extension attribute Eventarc filters on)

Header values are percent-encoded as the CloudEvents HTTP binding requires for characters
outside printable ASCII (and space, ``"`` and ``%``), so a handler should read the object name
from the body (``data["name"]``), not from ``ce-subject``.

Delivery semantics, like Eventarc's: a 2xx or 4xx answer ends the delivery (a 4xx is the
handler refusing the event: it is not retried); a 5xx, a timeout or a connection error is
retried with exponential backoff (1 s, 2 s, 4 s … capped at 60 s) up to ``max_attempts``
(default 10), without holding up the other events. An event is remembered once it is
delivered or given up, in memory and, with ``--state``, in a JSON file, so a restarted bridge
does not re-send what it already delivered (events still being retried when the bridge stops
are sent again on restart: at-least-once, as Eventarc). The ``ce-id`` is derived from
bucket, name and generation, so a re-sent event carries the same id and handlers can
deduplicate on it. Objects that disappear from the bucket are forgotten.

Use from code or tests: ``Bridge(...).scan_once()`` lists the bucket once, makes the due
deliveries and returns what it sent. From the command line (the stack runs it this way)::

    .venv/bin/python local/bridge.py [--storage-url URL] [--bucket NAME] [--target URL]
                                     [--state PATH] [--interval SECONDS]

Defaults come from ``STORAGE_EMULATOR_HOST``, ``UPLOAD_BUCKET`` and ``GATEWAY_URL``
(target ``$GATEWAY_URL/process-upload``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

EVENT_TYPE = "google.cloud.storage.object.v1.finalized"
DEFAULT_INTERVAL = 0.5
DEFAULT_MAX_ATTEMPTS = 10
DEFAULT_TIMEOUT = 300.0  # seconds one delivery may take (the function's own timeout in production)
BACKOFF_BASE = 1.0
BACKOFF_CAP = 60.0

log = logging.getLogger("bridge")


def _header_value(value: str) -> str:
    """Percent-encode a CloudEvents attribute for an HTTP header (CloudEvents HTTP binding 3.1.3.2)."""
    return quote(value, safe="!#$&'()*+,-./:;<=>?@[\\]^_`{|}~")


def event_id(bucket: str, name: str, generation: str) -> str:
    """A CloudEvent id unique per object generation, and the same every time it is computed."""
    return hashlib.sha256(f"{bucket}\n{name}\n{generation}".encode()).hexdigest()[:32]


def cloud_event_headers(obj: dict[str, Any]) -> dict[str, str]:
    """The binary-mode CloudEvent headers Eventarc sends for this object resource."""
    bucket, name, generation = obj["bucket"], obj["name"], str(obj["generation"])
    when = obj.get("updated") or obj.get("timeCreated") or datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return {
        "ce-specversion": "1.0",
        "ce-id": event_id(bucket, name, generation),
        "ce-source": _header_value(f"//storage.googleapis.com/projects/_/buckets/{bucket}"),
        "ce-type": EVENT_TYPE,
        "ce-subject": _header_value(f"objects/{name}"),
        "ce-time": _header_value(when),
        "ce-bucket": _header_value(bucket),
        "Content-Type": "application/json",
    }


@dataclass
class Delivery:
    """One attempt at delivering one event, as returned by :meth:`Bridge.scan_once`."""

    id: str
    name: str
    generation: str
    attempt: int
    headers: dict[str, str]
    body: dict[str, Any]
    status: int | None  # the HTTP status, None when no answer came (connection error, timeout)
    error: str | None = None

    @property
    def done(self) -> bool:
        """Whether this attempt ended the delivery (2xx or 4xx)."""
        return self.status is not None and self.status < 500


@dataclass
class _Pending:
    obj: dict[str, Any]
    attempts: int = 0
    next_at: float = 0.0


@dataclass
class Bridge:
    """Turns new object generations of one bucket into CloudEvents POSTed to one URL."""

    storage_url: str  # e.g. http://127.0.0.1:9023
    bucket: str
    target: str  # e.g. http://127.0.0.1:8000/process-upload
    state_path: Path | None = None  # where delivered generations are remembered; None: memory only
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    timeout: float = DEFAULT_TIMEOUT
    backoff_base: float = BACKOFF_BASE
    backoff_cap: float = BACKOFF_CAP
    clock: Callable[[], float] = time.monotonic
    session: requests.Session = field(default_factory=requests.Session)
    _seen: dict[str, str] = field(default_factory=dict, init=False)  # name -> last delivered generation
    _pending: dict[tuple[str, str], _Pending] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.storage_url = self.storage_url.rstrip("/")
        if self.state_path is not None and self.state_path.exists():
            try:
                state = json.loads(self.state_path.read_text())
                if state.get("bucket") == self.bucket:
                    self._seen = {str(k): str(v) for k, v in state.get("seen", {}).items()}
            except (OSError, ValueError, AttributeError) as exc:
                log.warning("ignoring unreadable bridge state %s: %s", self.state_path, exc)

    # -- listing ------------------------------------------------------------------------------

    def list_objects(self) -> Iterator[dict[str, Any]]:
        """Every live object of the bucket, as the JSON API returns it (following page tokens)."""
        url = f"{self.storage_url}/storage/v1/b/{quote(self.bucket, safe='')}/o"
        params: dict[str, str] = {}
        while True:
            response = self.session.get(url, params=params, timeout=30)
            response.raise_for_status()
            page = response.json()
            yield from page.get("items", [])
            token = page.get("nextPageToken")
            if not token:
                return
            params = {"pageToken": token}

    # -- scanning and delivering --------------------------------------------------------------

    def scan_once(self) -> list[Delivery]:
        """List the bucket once, deliver what is new or due for a retry, and return the attempts made."""
        live: dict[str, dict[str, Any]] = {}
        for obj in self.list_objects():
            live[obj["name"]] = obj
        for name, obj in live.items():
            generation = str(obj["generation"])
            key = (name, generation)
            if self._seen.get(name) != generation and key not in self._pending:
                # A newer generation replaces a pending older one: Eventarc would deliver both,
                # but the older one's bytes are gone, so only the live generation is worth sending.
                for old in [k for k in self._pending if k[0] == name]:
                    del self._pending[old]
                self._pending[key] = _Pending(obj)
        changed = self._forget_missing(live)

        now = self.clock()
        due = sorted(
            (k for k, p in self._pending.items() if p.next_at <= now),
            key=lambda k: (str(self._pending[k].obj.get("updated", "")), k),
        )
        sent: list[Delivery] = []
        for key in due:
            pending = self._pending[key]
            delivery = self._deliver(pending)
            sent.append(delivery)
            if delivery.done or pending.attempts >= self.max_attempts:
                if not delivery.done:
                    log.error(
                        "giving up %s (generation %s) after %d attempts",
                        delivery.name,
                        delivery.generation,
                        pending.attempts,
                    )
                del self._pending[key]
                self._seen[key[0]] = key[1]
                changed = True
            else:
                delay = min(self.backoff_base * 2 ** (pending.attempts - 1), self.backoff_cap)
                pending.next_at = self.clock() + delay
                log.warning("will retry %s (generation %s) in %.1f s", delivery.name, delivery.generation, delay)
        if changed:
            self._save()
        return sent

    def _deliver(self, pending: _Pending) -> Delivery:
        obj = pending.obj
        pending.attempts += 1
        headers = cloud_event_headers(obj)
        delivery = Delivery(
            id=headers["ce-id"],
            name=obj["name"],
            generation=str(obj["generation"]),
            attempt=pending.attempts,
            headers=headers,
            body=obj,
            status=None,
        )
        try:
            response = self.session.post(self.target, data=json.dumps(obj), headers=headers, timeout=self.timeout)
            delivery.status = response.status_code
            log.info(
                "%s %s (generation %s): HTTP %d", EVENT_TYPE, obj["name"], delivery.generation, response.status_code
            )
        except requests.RequestException as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
            log.warning("delivering %s failed: %s", obj["name"], delivery.error)
        return delivery

    def _forget_missing(self, live: dict[str, dict[str, Any]]) -> bool:
        gone = [name for name in self._seen if name not in live]
        for name in gone:
            del self._seen[name]
        for key in [k for k in self._pending if k[0] not in live]:
            del self._pending[key]
        return bool(gone)

    def _save(self) -> None:
        if self.state_path is None:
            return
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"bucket": self.bucket, "seen": self._seen}, indent=1, sort_keys=True))
        tmp.replace(self.state_path)

    @property
    def pending(self) -> int:
        """How many events are waiting for a retry."""
        return len(self._pending)

    def run(self, stop: threading.Event, interval: float = DEFAULT_INTERVAL) -> None:
        """Scan every ``interval`` seconds until ``stop`` is set; listing errors are logged and retried."""
        failing = False
        while not stop.is_set():
            try:
                self.scan_once()
                if failing:
                    log.info("storage emulator reachable again")
                failing = False
            except requests.RequestException as exc:
                if not failing:
                    log.warning("cannot list gs://%s: %s", self.bucket, exc)
                failing = True
            stop.wait(interval)


def main(argv: list[str] | None = None) -> None:
    gateway = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8000").rstrip("/")
    parser = argparse.ArgumentParser(description="Post Eventarc storage CloudEvents for new objects of a bucket.")
    parser.add_argument("--storage-url", default=os.environ.get("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9023"))
    parser.add_argument("--bucket", default=os.environ.get("UPLOAD_BUCKET", "aksio-uploads"))
    parser.add_argument("--target", default=f"{gateway}/process-upload")
    parser.add_argument("--state", type=Path, help="JSON file remembering delivered generations (default: memory)")
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL, help="seconds between scans")
    parser.add_argument("--max-attempts", type=int, default=DEFAULT_MAX_ATTEMPTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    bridge = Bridge(args.storage_url, args.bucket, args.target, state_path=args.state, max_attempts=args.max_attempts)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"bridge: gs://{args.bucket} at {bridge.storage_url} -> {args.target}", flush=True)
    bridge.run(stop, args.interval)


if __name__ == "__main__":
    main()
