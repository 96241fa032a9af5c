"""The local stack's Cloud Scheduler: HTTP jobs called at every slot of the wall clock.

Each job has a name, a period in minutes (``every``: a divisor of an hour, or whole hours
dividing a day; the slots are the multiples of the period since midnight UTC, as cron's
``*/15 * * * *`` for 15 or ``0 */2 * * *`` for 120), a target URL and method, and headers.
At each slot the job's target gets what Cloud Scheduler sends:

- the body ``{"job": <name>, "scheduledTime": <the slot, RFC3339 UTC>}`` (``Content-Type:
  application/json``);
- the headers ``User-Agent: Google-Cloud-Scheduler``, ``X-CloudScheduler: true``,
  ``X-CloudScheduler-JobName: <name>``, ``X-CloudScheduler-ScheduleTime: <the slot>``, and the
  job's own (locally, the stack's shared secret instead of Cloud Scheduler's OIDC token).

A run that does not get a 2xx is retried as Cloud Scheduler's ``retryConfig`` says:
``retries`` times (Cloud Scheduler allows 0 to 5), the first after ``min_backoff`` seconds,
doubling ``max_doublings`` times, then growing linearly, never more than ``max_backoff``, and
never past the job's next slot. Statuses listed in ``no_retry`` end a run at once (the stack
lists 404, so a target that does not exist yet is called once a slot). One run of a job at a
time: a slot that comes while the previous run is still retrying is skipped, as is every slot
missed while the machine slept; the first slot is the first one after the start.

Test controls (JSON, no authentication, loopback only):

- ``POST /_test/run`` ``{"job": name, "at": "<RFC3339>", "retries": n}``: run the job now as if
  for the instant ``at`` (default: now; ``retries`` overrides the job's), wait for it, and answer
  the run: ``{"id", "job", "trigger": "test", "scheduledTime", "status", "body", "json",
  "succeeded", "attempts": [{"attempt", "at", "status", "error", "body"}], ...}``, ``status`` and
  ``body`` being the target's last answer (``json``: that body parsed, when it is JSON).
- ``GET /_test/runs[?job=name]``: the runs so far, oldest first (``trigger``: ``clock`` or
  ``test``; a run still retrying has ``state: running``); ``DELETE /_test/runs`` forgets them.
- ``GET /_test/jobs``: the jobs (header names only, never their values), their next slot and
  whether the clock runs; ``POST /_test/clock`` ``{"enabled": false}`` pauses the wall clock
  (``true`` resumes it; slots passed meanwhile are not caught up).

Standard library only. Run alone (the stack does this for you)::

    python local/scheduler.py --port 8440 \\
        --job name=send-reminders,every=15,url=http://127.0.0.1:8000/send-reminders,header=X-Aksio-Task-Secret:$S

A job is ``key=value`` pairs joined by commas (a value may hold a comma, unless ``word=``
follows it): ``name``, ``every``
(minutes), ``url``, ``method`` (POST), ``header=Name:value`` and ``header_env=Name:VARIABLE``
(the value read from the environment, so it shows in no command line; both repeatable),
``retries`` (3), ``min_backoff`` (5 s), ``max_backoff`` (3600 s), ``max_doublings`` (5),
``deadline`` (180 s for one attempt), ``no_retry`` (statuses, ``+``-joined, e.g. ``404+410``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"
DAY_MINUTES = 24 * 60
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BODY_LIMIT = 64 * 1024  # characters of a target's answer kept in a run
RUN_LOG_SIZE = 1000
USER_AGENT = "Google-Cloud-Scheduler"

# -- slots and backoff: pure ------------------------------------------------------------------


def check_every(every: int) -> int:
    """A period in minutes that cron says evenly: a divisor of an hour (``*/15 * * * *``) or a
    whole number of hours dividing a day (``0 */2 * * *``)."""
    valid = isinstance(every, int) and not isinstance(every, bool) and every > 0
    if not (valid and (60 % every == 0 or (every % 60 == 0 and DAY_MINUTES % every == 0))):
        raise ValueError(
            f"every={every!r}: the period must divide an hour (1, 5, 15, 30...) or be whole hours dividing a day"
        )
    return every


def slot_at(moment: datetime, every: int) -> datetime:
    """The slot ``moment`` falls in: the latest multiple of ``every`` minutes since midnight UTC at or before it."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    period = timedelta(minutes=check_every(every))
    return EPOCH + ((moment.astimezone(UTC) - EPOCH) // period) * period


def next_slot(moment: datetime, every: int) -> datetime:
    """The first slot strictly after ``moment``."""
    return slot_at(moment, every) + timedelta(minutes=every)


def due_slot(last: datetime, now: datetime, every: int) -> datetime | None:
    """The slot to run at ``now`` when ``last`` was the last one run (or the start's): the current
    slot if it is newer, else None. Slots missed in between are skipped, not caught up."""
    current = slot_at(now, every)
    return current if current > last else None


def backoff(retry: int, min_backoff: float, max_backoff: float, max_doublings: int) -> float:
    """Seconds before retry number ``retry`` (1 = the first), as Cloud Scheduler's retryConfig:
    ``min_backoff``, doubled ``max_doublings`` times, then growing linearly, capped at ``max_backoff``
    (10 s, 300 s, 3 doublings: 10, 20, 40, 80, 160, 240, 300, 300...)."""
    if retry < 1:
        raise ValueError("retries count from 1")
    doublings = min(retry - 1, max_doublings)
    step = min_backoff * 2**doublings
    delay = step + (retry - 1 - doublings) * min_backoff * 2**max_doublings
    return float(min(delay, max_backoff))


def rfc3339(moment: datetime) -> str:
    """UTC "Zulu", with the fraction of a second only when there is one."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_rfc3339(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset (write 2026-03-29T01:00:00Z)")
    return moment.astimezone(UTC)


# -- jobs ------------------------------------------------------------------------------------


@dataclass
class Job:
    name: str
    every: int  # minutes
    url: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    retries: int = 3
    min_backoff: float = 5.0
    max_backoff: float = 3600.0
    max_doublings: int = 5
    deadline: float = 180.0
    no_retry: frozenset[int] = frozenset()

    def describe(self, now: datetime) -> dict[str, Any]:
        return {
            "name": self.name,
            "every": self.every,
            "url": self.url,
            "method": self.method,
            "headers": sorted(self.headers),  # names only: values may be secrets
            "retries": self.retries,
            "minBackoff": self.min_backoff,
            "maxBackoff": self.max_backoff,
            "maxDoublings": self.max_doublings,
            "deadline": self.deadline,
            "noRetry": sorted(self.no_retry),
            "nextSlot": rfc3339(next_slot(now, self.every)),
        }


JOB_KEYS = (
    "name",
    "every",
    "url",
    "method",
    "header",
    "header_env",
    "retries",
    "min_backoff",
    "max_backoff",
    "max_doublings",
    "deadline",
    "no_retry",
)
_SPLIT = re.compile(r",(?=[a-z_]+=)")  # a value may hold commas, unless followed by "word="


def _header(value: str) -> tuple[str, str]:
    name, sep, rest = value.partition(":")
    if not sep or not name.strip():
        raise ValueError(f"header {value!r}: write Name:value")
    return name.strip(), rest.strip()


_CONVERT: dict[str, Callable[[str], Any]] = {
    "name": str,
    "url": str,
    "method": str.upper,
    "every": int,
    "retries": int,
    "max_doublings": int,
    "min_backoff": float,
    "max_backoff": float,
    "deadline": float,
    "no_retry": lambda value: frozenset(int(s) for s in value.split("+") if s),
}


def parse_job(spec: str, env: Mapping[str, str] | None = None) -> Job:
    """A job from ``name=...,every=15,url=...,header=Name:value,...`` (see the module's docstring)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {"headers": {}}
    for part in _SPLIT.split(spec.strip()):
        key, sep, value = part.partition("=")
        if not sep or key not in JOB_KEYS:
            raise ValueError(f"job {spec!r}: {part!r} is not one of {', '.join(k + '=' for k in JOB_KEYS)}")
        if key == "header":
            name, text = _header(value)
            values["headers"][name] = text
        elif key == "header_env":
            name, variable = _header(value)
            if not env.get(variable):
                raise ValueError(f"header_env {value!r}: the variable {variable} is not set")
            values["headers"][name] = env[variable]
        else:
            values[key] = _CONVERT[key](value)
    missing = [k for k in ("name", "every", "url") if not values.get(k)]
    if missing:
        raise ValueError(f"job {spec!r}: missing {', '.join(missing)}")
    job = Job(**values)
    check_every(job.every)
    if not 0 <= job.retries <= 5:
        raise ValueError(f"job {job.name}: retries must be 0 to 5, as Cloud Scheduler allows")
    if job.min_backoff < 0 or job.max_backoff < job.min_backoff or job.max_doublings < 0 or job.deadline <= 0:
        raise ValueError(f"job {job.name}: backoffs must be 0 <= min_backoff <= max_backoff, deadline > 0")
    return job


# -- runs ------------------------------------------------------------------------------------


@dataclass
class Run:
    id: int
    job: str
    trigger: str  # "clock" or "test"
    scheduled: datetime
    started: datetime
    attempts: list[dict[str, Any]] = field(default_factory=list)
    state: str = "running"  # then "succeeded" or "failed"
    finished: datetime | None = None

    def describe(self) -> dict[str, Any]:
        last = self.attempts[-1] if self.attempts else {}
        body = last.get("body")
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        return {
            "id": self.id,
            "job": self.job,
            "trigger": self.trigger,
            "scheduledTime": rfc3339(self.scheduled),
            "startedAt": rfc3339(self.started),
            "finishedAt": rfc3339(self.finished) if self.finished else None,
            "state": self.state,
            "succeeded": self.state == "succeeded",
            "status": last.get("status"),
            "error": last.get("error"),
            "body": body,
            "json": parsed,
            "attempts": [dict(a) for a in self.attempts],
        }


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback targets: never a proxy


def call(job: Job, scheduled: datetime, timeout: float) -> tuple[int | None, str | None, str | None]:
    """One attempt: the target's status and body, or (None, None, error) when there is no answer."""
    when = rfc3339(scheduled)
    body = json.dumps({"job": job.name, "scheduledTime": when}).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-CloudScheduler": "true",
        "X-CloudScheduler-JobName": job.name,
        "X-CloudScheduler-ScheduleTime": when,
        **job.headers,
    }
    request = urllib.request.Request(job.url, data=body, headers=headers, method=job.method)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")[:BODY_LIMIT], None
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode(errors="replace")[:BODY_LIMIT], None
    except (OSError, ValueError) as exc:  # refused, reset, timed out, a bad URL
        reason = getattr(exc, "reason", exc)
        return None, None, f"{type(exc).__name__}: {reason}"


class Scheduler:
    """The jobs, the wall clock that runs them, the runs so far, and the test controls' server."""

    def __init__(
        self,
        jobs: list[Job],
        *,
        host: str = HOST,
        port: int = 0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock_enabled: bool = True,
    ) -> None:
        if len({j.name for j in jobs}) != len(jobs):
            raise ValueError("job names must be unique")
        self.jobs = {j.name: j for j in jobs}
        self.clock = clock
        self.clock_enabled = clock_enabled
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._runs: list[Run] = []
        self._next_id = 0
        self._threads: list[threading.Thread] = []
        start = clock()
        self._last_slot = {j.name: slot_at(start, j.every) for j in jobs}  # the first run is the next slot
        self._busy: set[str] = set()  # jobs whose clock run is still going
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._serving: threading.Thread | None = None
        self._ticking: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- running a job -------------------------------------------------------------------------

    def run(self, job: Job, scheduled: datetime, trigger: str, *, retries: int | None = None) -> Run:
        """Call the job's target for ``scheduled``, retrying as configured; returns the finished run.

        A clock run stops retrying at the job's next slot (Cloud Scheduler's "or until the next
        scheduled execution time, whichever comes first")."""
        with self._lock:
            self._next_id += 1
            run = Run(self._next_id, job.name, trigger, scheduled, self.clock())
            self._runs.append(run)
            del self._runs[:-RUN_LOG_SIZE]
        limit = job.retries if retries is None else retries
        until = time.monotonic() + (next_slot(scheduled, job.every) - self.clock()).total_seconds()
        attempt = 0
        while True:
            attempt += 1
            at = self.clock()
            status, body, error = call(job, scheduled, job.deadline)
            record = {"attempt": attempt, "at": rfc3339(at), "status": status, "error": error, "body": body}
            with self._lock:
                run.attempts.append(record)
            outcome = f"HTTP {status}" if status is not None else error
            print(f"scheduler: {job.name} {rfc3339(scheduled)} ({trigger}) attempt {attempt}: {outcome}", flush=True)
            ok = status is not None and 200 <= status < 300
            if ok or attempt > limit or (status is not None and status in job.no_retry):
                break
            delay = backoff(attempt, job.min_backoff, job.max_backoff, job.max_doublings)
            if trigger == "clock" and time.monotonic() + delay >= until:
                break
            if self.stopping.wait(delay):
                break
        with self._lock:
            run.state = "succeeded" if ok else "failed"
            run.finished = self.clock()
        return run

    def tick(self, now: datetime | None = None) -> list[str]:
        """Start the run of every job whose slot has come (at ``now``, default the clock); returns
        the jobs started. Each run goes on its own thread (see :meth:`wait_idle`)."""
        now = self.clock() if now is None else now
        started = []
        for job in self.jobs.values():
            with self._lock:
                slot = due_slot(self._last_slot[job.name], now, job.every)
                if slot is None:
                    continue
                self._last_slot[job.name] = slot
                if not self.clock_enabled:
                    continue
                if job.name in self._busy:
                    print(f"scheduler: {job.name} {rfc3339(slot)} skipped: the previous run is still going", flush=True)
                    continue
                self._busy.add(job.name)
            thread = threading.Thread(target=self._clock_run, args=(job, slot), name=f"run-{job.name}", daemon=True)
            with self._lock:
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()
            started.append(job.name)
        return started

    def _clock_run(self, job: Job, slot: datetime) -> None:
        try:
            self.run(job, slot, "clock")
        finally:
            with self._lock:
                self._busy.discard(job.name)

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait for the clock's runs under way (tests)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _tick_forever(self) -> None:
        while not self.stopping.is_set():
            self.tick()
            now = self.clock()
            wake = min((next_slot(now, j.every) - now).total_seconds() for j in self.jobs.values()) if self.jobs else 60
            # Woken a little after the slot; at most every 30 s, in case the wall clock jumps.
            self.stopping.wait(min(max(wake, 0.0) + 0.05, 30.0))

    def start(self) -> Scheduler:
        self._serving = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="scheduler-http", daemon=True
        )
        self._serving.start()
        self._ticking = threading.Thread(target=self._tick_forever, name="scheduler-clock", daemon=True)
        self._ticking.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._serving is not None:
            self._server.shutdown()
        self._server.server_close()
        for thread in (self._serving, self._ticking):
            if thread is not None:
                thread.join(timeout=5)

    # -- test controls -------------------------------------------------------------------------

    def runs(self, job: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [r.describe() for r in self._runs if job is None or r.job == job]

    def control(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        """The ``/_test/`` routes."""
        routes: dict[tuple[str, str], Callable[[], tuple[int, Any]]] = {
            ("POST", "/_test/run"): lambda: self._test_run(body),
            ("GET", "/_test/runs"): lambda: (200, {"runs": self.runs(query.get("job", [None])[0])}),
            ("DELETE", "/_test/runs"): self._clear_runs,
            ("GET", "/_test/jobs"): self._describe_jobs,
            ("POST", "/_test/clock"): lambda: self._set_clock(body),
        }
        route = routes.get((method, path))
        return route() if route is not None else (404, {"error": f"no test control {method} {path}"})

    def _clear_runs(self) -> tuple[int, Any]:
        with self._lock:
            cleared = len(self._runs)
            self._runs.clear()
        return 200, {"cleared": cleared}

    def _describe_jobs(self) -> tuple[int, Any]:
        now = self.clock()
        return 200, {"clock": self.clock_enabled, "jobs": [j.describe(now) for j in self.jobs.values()]}

    def _set_clock(self, body: bytes) -> tuple[int, Any]:
        spec = _json_object(body)
        if spec is None or not isinstance(spec.get("enabled"), bool):
            return 400, {"error": 'the body must be {"enabled": true|false}'}
        self.clock_enabled = spec["enabled"]
        print(f"scheduler: clock {'resumed' if self.clock_enabled else 'paused'}", flush=True)
        return 200, {"clock": self.clock_enabled}

    def _test_run(self, body: bytes) -> tuple[int, Any]:
        spec = _json_object(body)
        if spec is None:
            return 400, {"error": 'the body must be a JSON object: {"job": name, "at": "<RFC3339>"}'}
        name = spec.get("job")
        job = self.jobs.get(name) if isinstance(name, str) else None
        if job is None:
            return 404, {"error": f"no job {spec.get('job')!r}; jobs: {', '.join(self.jobs)}"}
        retries = spec.get("retries")
        if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 5):
            return 400, {"error": "retries must be 0 to 5"}
        try:
            at = parse_rfc3339(spec["at"]) if spec.get("at") is not None else self.clock()
        except (TypeError, ValueError) as exc:
            return 400, {"error": f"at: {exc}"}
        return 200, self.run(job, at, "test", retries=retries).describe()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        scheduler = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "aksio-scheduler"
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                print(f"scheduler: {format % args}", flush=True)

            def _serve(self, method: str) -> None:
                split = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload = scheduler.control(method, split.path, parse_qs(split.query), body)
                data = json.dumps(payload, indent=2).encode() + b"\n"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

        return Handler


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cloud Scheduler's HTTP jobs on the wall clock (local only).")
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=8440)
    parser.add_argument("--job", action="append", default=[], help="name=...,every=MIN,url=...[,header=N:V...]")
    parser.add_argument("--no-clock", action="store_true", help="start with the clock paused (/_test/run only)")
    args = parser.parse_args(argv)
    try:
        jobs = [parse_job(spec) for spec in args.job]
    except ValueError as exc:
        parser.error(str(exc))
    scheduler = Scheduler(jobs, host=args.host, port=args.port, clock_enabled=not args.no_clock).start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    clock = "paused" if args.no_clock else "running"
    print(f"scheduler listening on {scheduler.url} (clock {clock})", flush=True)
    now = datetime.now(UTC)
    for job in jobs:
        print(f"scheduler: {job.name} every {job.every} min -> {job.method} {job.url}", flush=True)
        print(f"scheduler: {job.name} next slot {rfc3339(next_slot(now, job.every))}", flush=True)
    stop.wait()
    scheduler.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
