"""The queues and their tasks: names, deduplication, scheduling, dispatch and retries.

A task is kept until it succeeds (a 2xx answer), is deleted, or its queue's retry
configuration gives up on it (:mod:`.retry`); then its name is remembered for
``tombstone_seconds`` (Cloud Tasks: "another task with the same name can't be created for ~1
hour after the original task was deleted or executed"), so creating it again is
ALREADY_EXISTS, as a live task of that name is. Dispatch is an HTTP request from a pool of
threads, with Cloud Tasks' headers and, when the task asks for one, an OIDC token
(:mod:`.oidc`) for its service account and audience (the URL when none is given).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import grpc
from google.cloud import tasks_v2
from google.protobuf import timestamp_pb2

from .oidc import Issuer
from .retry import Retry

log = logging.getLogger("tasks_emulator")
QUEUE_NAME = re.compile(r"^projects/[^/]+/locations/[^/]+/queues/[A-Za-z0-9-]{1,100}$")
TASK_ID = re.compile(r"^[A-Za-z0-9_-]{1,500}$")
DEFAULT_DEADLINE = 600.0  # Cloud Tasks' default dispatch deadline for HTTP targets
MIN_DEADLINE, MAX_DEADLINE = 15.0, 1800.0


class TasksError(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _ts(seconds: float) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


def _seconds(value: Any) -> float:
    """Seconds of a proto-plus Duration/Timestamp field (a timedelta or datetime), 0 when unset."""
    if value is None:
        return 0.0
    if hasattr(value, "total_seconds"):
        return float(value.total_seconds())
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return 0.0


@dataclass
class Attempt:
    at: float
    status: int | None
    error: str | None = None


@dataclass
class Entry:
    task: Any  # tasks_v2.Task (proto-plus), kept FULL
    eta: float
    first_attempt: float | None = None
    running: bool = False
    attempts: list[Attempt] = field(default_factory=list)


@dataclass
class Queue:
    proto: Any  # tasks_v2.Queue
    retry: Retry
    tasks: dict[str, Entry] = field(default_factory=dict)
    running: int = 0

    @property
    def paused(self) -> bool:
        return bool(self.proto.state == tasks_v2.Queue.State.PAUSED)

    @property
    def max_concurrent(self) -> int:
        return int(self.proto.rate_limits.max_concurrent_dispatches or 1000)


def retry_of(proto: Any) -> Retry:
    rc = proto.retry_config
    default = Retry()
    return Retry(
        max_attempts=int(rc.max_attempts) if rc.max_attempts else default.max_attempts,
        min_backoff=_seconds(rc.min_backoff) or default.min_backoff,
        max_backoff=_seconds(rc.max_backoff) or default.max_backoff,
        max_doublings=int(rc.max_doublings) if "max_doublings" in rc else default.max_doublings,
        max_retry_duration=_seconds(rc.max_retry_duration),
    )


def queue_proto(name: str, retry: Retry, max_concurrent: int = 1000) -> Any:
    return tasks_v2.Queue(
        name=name,
        state=tasks_v2.Queue.State.RUNNING,
        rate_limits=tasks_v2.RateLimits(max_dispatches_per_second=500, max_concurrent_dispatches=max_concurrent),
        retry_config=tasks_v2.RetryConfig(
            max_attempts=retry.max_attempts,
            min_backoff=timedelta(seconds=retry.min_backoff),
            max_backoff=timedelta(seconds=retry.max_backoff),
            max_doublings=retry.max_doublings,
            max_retry_duration=timedelta(seconds=retry.max_retry_duration),
        ),
    )


class Tasks:
    """Every queue and task, and the dispatcher thread."""

    def __init__(self, issuer: Issuer, *, tombstone_seconds: float = 3600.0, workers: int = 16) -> None:
        self.issuer = issuer
        self.tombstone_seconds = tombstone_seconds
        self.queues: dict[str, Queue] = {}
        self.tombstones: dict[str, float] = {}  # task name → when it may be used again
        self.cond = threading.Condition()
        self.heap: list[tuple[float, int, str]] = []
        self.seq = itertools.count()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dispatch")
        self.stopped = False
        self.thread = threading.Thread(target=self._loop, name="tasks-dispatcher", daemon=True)

    def start(self) -> Tasks:
        self.thread.start()
        return self

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()
        self.pool.shutdown(wait=False, cancel_futures=True)

    # -- queues ------------------------------------------------------------------------------

    def queue(self, name: str) -> Queue:
        queue = self.queues.get(name)
        if queue is None:
            raise TasksError(grpc.StatusCode.NOT_FOUND, f"Queue does not exist: {name}")
        return queue

    def add_queue(self, proto: Any) -> Queue:
        if not QUEUE_NAME.match(proto.name):
            raise TasksError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid queue name: {proto.name}")
        with self.cond:
            if proto.name in self.queues:
                raise TasksError(grpc.StatusCode.ALREADY_EXISTS, f"Queue already exists: {proto.name}")
            if not proto.state:
                proto.state = tasks_v2.Queue.State.RUNNING
            self.queues[proto.name] = queue = Queue(proto, retry_of(proto))
            return queue

    # -- tasks -------------------------------------------------------------------------------

    def create(self, parent: str, task: Any) -> Any:
        now = time.time()
        with self.cond:
            queue = self.queue(parent)
            if task.name:
                prefix = f"{parent}/tasks/"
                if not task.name.startswith(prefix) or not TASK_ID.match(task.name[len(prefix) :]):
                    raise TasksError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid task name: {task.name}")
                if task.name in queue.tasks or self.tombstones.get(task.name, 0) > now:
                    raise TasksError(grpc.StatusCode.ALREADY_EXISTS, "Requested entity already exists")
            else:
                task.name = f"{parent}/tasks/{secrets.randbelow(10**19)}"
            if "http_request" not in task:
                raise TasksError(grpc.StatusCode.INVALID_ARGUMENT, "Only HTTP tasks (http_request) are emulated")
            url = task.http_request.url
            if not url.startswith(("http://", "https://")):
                raise TasksError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid URL: {url!r}")
            deadline = _seconds(task.dispatch_deadline) or DEFAULT_DEADLINE
            if not MIN_DEADLINE <= deadline <= MAX_DEADLINE:
                raise TasksError(grpc.StatusCode.INVALID_ARGUMENT, "dispatch_deadline must be in [15s, 30m]")
            if not task.http_request.http_method:
                task.http_request.http_method = tasks_v2.HttpMethod.POST
            eta = max(_seconds(task.schedule_time), now) if "schedule_time" in task else now
            task.schedule_time = _ts(eta)
            task.create_time = _ts(now)
            task.dispatch_deadline = timedelta(seconds=deadline)
            queue.tasks[task.name] = Entry(task, eta)
            self._push(eta, task.name)
            return task

    def get(self, name: str) -> tuple[Queue, Entry]:
        queue = self.queue(name.split("/tasks/", maxsplit=1)[0])
        entry = queue.tasks.get(name)
        if entry is None:
            raise TasksError(grpc.StatusCode.NOT_FOUND, f"Task does not exist: {name}")
        return queue, entry

    def delete(self, name: str) -> None:
        with self.cond:
            queue, _ = self.get(name)
            del queue.tasks[name]
            self.tombstones[name] = time.time() + self.tombstone_seconds

    def run_now(self, name: str) -> Any:
        with self.cond:
            _, entry = self.get(name)
            entry.eta = time.time()
            self._push(entry.eta, name, force=True)
            return entry.task

    def purge(self, queue_name: str) -> None:
        with self.cond:
            queue = self.queue(queue_name)
            until = time.time() + self.tombstone_seconds
            for name in queue.tasks:
                self.tombstones[name] = until
            queue.tasks.clear()

    # -- dispatch ----------------------------------------------------------------------------

    def _push(self, eta: float, name: str, *, force: bool = False) -> None:
        heapq.heappush(self.heap, (eta, next(self.seq), ("!" if force else "") + name))
        self.cond.notify_all()

    def _loop(self) -> None:
        with self.cond:
            while not self.stopped:
                now = time.time()
                waiting: list[tuple[float, int, str]] = []
                while self.heap and self.heap[0][0] <= now:
                    item = heapq.heappop(self.heap)
                    if not self._start(item[2], now):
                        waiting.append(item)
                for item in waiting:
                    heapq.heappush(self.heap, (now + 0.05, item[1], item[2]))
                timeout = min(self.heap[0][0] - now, 1.0) if self.heap else 1.0
                self.cond.wait(max(timeout, 0.005))

    def _start(self, key: str, now: float) -> bool:
        """Start dispatching the task if it is due; False to look again shortly."""
        force, name = key.startswith("!"), key.lstrip("!")
        queue = self.queues.get(name.split("/tasks/")[0])
        entry = queue.tasks.get(name) if queue else None
        if queue is None or entry is None or entry.running or (entry.eta > now and not force):
            return True  # gone, already running, or an outdated heap item: drop it
        if (queue.paused and not force) or queue.running >= queue.max_concurrent:
            return False
        entry.running = True
        queue.running += 1
        if entry.first_attempt is None:
            entry.first_attempt = now
        self.pool.submit(self._dispatch, queue, entry)
        return True

    def _request(self, queue: Queue, entry: Entry) -> urllib.request.Request:
        task, http = entry.task, entry.task.http_request
        retries = len(entry.attempts)
        responses = sum(1 for a in entry.attempts if a.status is not None)
        headers = {k: v for k, v in http.headers.items()}
        headers |= {
            "User-Agent": "Google-Cloud-Tasks",
            "X-CloudTasks-QueueName": queue.proto.name.rsplit("/", 1)[-1],
            "X-CloudTasks-TaskName": task.name.rsplit("/", 1)[-1],
            "X-CloudTasks-TaskRetryCount": str(retries),
            "X-CloudTasks-TaskExecutionCount": str(responses),
            "X-CloudTasks-TaskETA": f"{entry.eta:.6f}",
        }
        if entry.attempts and entry.attempts[-1].status is not None:
            headers["X-CloudTasks-TaskPreviousResponse"] = str(entry.attempts[-1].status)
            headers["X-CloudTasks-TaskRetryReason"] = "HTTP_ERROR"
        if "oidc_token" in http and http.oidc_token.service_account_email:
            audience = http.oidc_token.audience or http.url
            token = self.issuer.mint(http.oidc_token.service_account_email, audience)
            headers["Authorization"] = f"Bearer {token}"
        method = tasks_v2.HttpMethod(http.http_method).name
        body = bytes(http.body) if method in ("POST", "PUT", "PATCH") else None
        return urllib.request.Request(http.url, data=body, headers=headers, method=method)

    def _dispatch(self, queue: Queue, entry: Entry) -> None:
        started = time.time()
        status: int | None = None
        error: str | None = None
        try:
            request = self._request(queue, entry)
            deadline = _seconds(entry.task.dispatch_deadline) or DEFAULT_DEADLINE
            with urllib.request.urlopen(request, timeout=deadline) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except Exception as exc:  # connection refused, timeout...: no response
            error = f"{type(exc).__name__}: {exc}"
        with self.cond:
            self._finish(queue, entry, Attempt(started, status, error))

    def _finish(self, queue: Queue, entry: Entry, attempt: Attempt) -> None:
        queue.running -= 1
        entry.running = False
        entry.attempts.append(attempt)
        name = entry.task.name
        task = entry.task
        task.dispatch_count = len(entry.attempts)
        task.response_count = sum(1 for a in entry.attempts if a.status is not None)
        summary = tasks_v2.Attempt(schedule_time=_ts(entry.eta), dispatch_time=_ts(attempt.at))
        summary.response_time = _ts(time.time())
        if len(entry.attempts) == 1:
            task.first_attempt = summary
        task.last_attempt = summary
        outcome = attempt.status if attempt.status is not None else attempt.error
        if name not in queue.tasks:  # deleted while it ran
            self.cond.notify_all()
            return
        if attempt.status is not None and 200 <= attempt.status < 300:
            log.info("task %s: attempt %d -> %s, done", name, len(entry.attempts), outcome)
            del queue.tasks[name]
            self.tombstones[name] = time.time() + self.tombstone_seconds
        elif queue.retry.gives_up(len(entry.attempts), time.time() - (entry.first_attempt or attempt.at)):
            log.info("task %s: attempt %d -> %s, giving up (max_attempts)", name, len(entry.attempts), outcome)
            del queue.tasks[name]
            self.tombstones[name] = time.time() + self.tombstone_seconds
        else:
            wait = queue.retry.backoff(len(entry.attempts) - 1)
            entry.eta = time.time() + wait
            task.schedule_time = _ts(entry.eta)
            log.info("task %s: attempt %d -> %s, retry in %.3f s", name, len(entry.attempts), outcome, wait)
            self._push(entry.eta, name)
        self.cond.notify_all()
