"""Deadlines for every call to a dependency, well inside the functions' timeouts.

A dependency that is down or hung must cost a request seconds, not the function's whole
timeout: every Firestore, Storage, Tasks, Stripe and model call is bounded, and a call that
runs out of time surfaces as a 503 ``unavailable`` with ``Retry-After`` at the edge
(:func:`aksio.edge.dependency_error`).

Storage, Tasks, Stripe and the model are called from a few places, each with its own
``timeout=`` (the constants below, :func:`storage_retry`, :func:`tasks_retry`). Firestore is
called from a hundred, and google-cloud-firestore retries ``DEADLINE_EXCEEDED`` and
``UNAVAILABLE`` by itself for up to 60 s (``GetDocument``, ``Commit``...) or 300 s
(``RunQuery``, ``BatchGetDocuments``), transactions included. So Firestore is bounded once,
under the call sites, by a **gRPC client interceptor** on the client's channel
(:class:`Interceptor`, installed by :func:`aksio.clients.firestore_client`):

- Every unary and server-streaming RPC (all the client's reads, writes, queries,
  aggregations and transactions) runs against the current :class:`Budget`; its gRPC
  deadline becomes ``min(the library's own timeout, what is left of the budget)``, with
  ``wait_for_ready`` (a call waits for a channel that cannot connect, within that deadline,
  instead of failing at once into the library's back-off).
- Once the budget is spent, the next attempt is not made: it fails at once with
  :class:`BudgetSpent`, an :class:`aksio.errors.Unavailable` (503 ``unavailable``,
  ``Retry-After``). It is not a gRPC error, so the library's retry does not retry it
  (``google.api_core`` retries only the exception types in its predicate) and its
  transaction code rolls back and re-raises it.

The budget counts the time a unit of work spends *waiting on Firestore*, not its wall time:
from the start of a call until it ends well, with no other call in flight. After a transient
failure (``UNAVAILABLE``, ``DEADLINE_EXCEEDED``, ``RESOURCE_EXHAUSTED``, ``INTERNAL``: the
codes the library retries) the clock keeps running until a later call ends well, so the
library's back-off between attempts is paid for too and a Firestore that refuses at once is
bounded like one that hangs. A model call of 30 s in chat-reply or run-generation costs
nothing, and the writes after it still have their budget. (A pause after a failure longer
than the whole budget is not a back-off: the caller moved on; the clock restarts there.)

Whose budget: the HTTP edge gives each request :data:`REQUEST_BUDGET_S` (:func:`budget`
around authentication, parsing and the handler, in :meth:`aksio.http.Api.__call__`): a hung
Firestore answers a 503 in about that long. Outside a request (the CloudEvent function process-upload, threads a
handler starts, scripts, tests) each thread has an ambient budget of
:data:`BACKGROUND_CALL_S` that starts over after every call that ends well, so it bounds one
call with its retries, not the work around it; there the :class:`BudgetSpent` is an
exception like any other and the delivery fails, so Eventarc retries it. Code that wants one
overall bound for a longer unit of work opens its own ``with deadlines.budget(seconds):``
(a CloudEvent delivery: :data:`EVENT_BUDGET_S`; a thread a handler starts keeps the
request's budget when started with ``contextvars.copy_context().run``).

Why an interceptor: ``google.cloud.firestore.Client`` takes no ``timeout``, ``retry`` or
channel argument, and it builds its gRPC channel itself (an insecure one for
``FIRESTORE_EMULATOR_HOST``, a TLS one with the credentials and keep-alive options in
production) before handing it to the generated transport as ``channel=``. gRPC's
``grpc.intercept_channel`` is the documented way to act on every call of a channel (the
generated transport already wraps the channel the same way for its logging), and a
subclass of the generated ``FirestoreGrpcTransport`` that wraps the ``channel`` it is given
sees both channels the library builds; no library function is replaced at run time. The
non-public names used are ``Client._firestore_api``, the property through which the
library's own ``Client``/``AsyncClient`` choose their transport class, and the
``_firestore_api_helper`` it calls with that class: see
:func:`aksio.clients.firestore_client`; ``tests/unit/test_deadlines.py`` fails if a library
upgrade changes it. Per-call ``timeout=``/``retry=`` arguments would have meant touching
every call site, and a channel option (``grpc.service_config`` timeouts) is static and
still retried by the library.

This module is imported by :mod:`aksio.config` at every cold start, so it imports only the
standard library and :mod:`aksio.errors`; gRPC and google-api-core are imported where used.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aksio import errors

# Time one request may wait on Firestore (calls in flight, and back-off after a failure).
REQUEST_BUDGET_S = 10.0
# Outside a request: one Firestore call with the library's retries of it.
BACKGROUND_CALL_S = 30.0
# One CloudEvent delivery (process-upload, 300 s timeout), for ``with budget(EVENT_BUDGET_S)``.
EVENT_BUDGET_S = 120.0
# Storage (HTTP): (connect, read) seconds per request, and all retries of one call.
STORAGE_TIMEOUT_S = (3.05, 8.0)
STORAGE_RETRY_S = 10.0
# Cloud Tasks: one create_task, retries included.
TASKS_TIMEOUT_S = 8.0
# Stripe: one API request (the client's own retries come on top, so they are few).
STRIPE_TIMEOUT_S = 8.0
# FCM: one messages:send request (connect, read); retries are the sender's, within its run.
FCM_TIMEOUT_S = (3.05, 5.0)

# gRPC status codes (by name) after which google-api-core retries a Firestore call.
TRANSIENT_CODES = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "INTERNAL"})


class BudgetSpent(errors.Unavailable):
    """The time allowed for waiting on Firestore is used up: the call was not made."""

    def __init__(self, message: str = "The database did not answer in time; retry shortly.", **kw: Any) -> None:
        super().__init__(message, **kw)


class Budget:
    """Seconds a unit of work may spend waiting on Firestore (see the module docstring).

    ``renew``: the ambient budget outside requests starts over after every call that ends
    well (and after it ran out), so it bounds one call and its retries. Thread-safe: a
    streaming call ends on a gRPC thread.
    """

    def __init__(self, seconds: float, *, renew: bool = False, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.renew = renew
        self._clock = clock
        self._lock = threading.Lock()
        self._spent = 0.0  # closed stretches of waiting
        self._since: float | None = None  # start of the open stretch
        self._in_flight = 0
        self._failing = False  # the last call to end failed transiently
        self._last_end = 0.0

    def _used(self, now: float) -> float:
        return self._spent + (now - self._since if self._since is not None else 0.0)

    def _close(self, at: float) -> None:
        if self._since is not None:
            self._spent += max(0.0, at - self._since)
        self._since = None
        self._failing = False
        if self.renew:
            self._spent = 0.0

    def remaining(self) -> float:
        with self._lock:
            return self.seconds - self._used(self._clock())

    def begin(self) -> float:
        """A call starts: the seconds it may take; :class:`BudgetSpent` when none are left."""
        with self._lock:
            now = self._clock()
            if self._in_flight == 0 and self._failing and now - self._last_end > self.seconds:
                self._close(self._last_end)  # not a back-off: the caller went on to other work
            left = self.seconds - self._used(now)
            if left <= 0:
                if self.renew and self._in_flight == 0:
                    self._close(now)  # this call gives up; the next one starts over
                raise BudgetSpent()
            if self._since is None:
                self._since = now
            self._in_flight += 1
            return left

    def end(self, *, failed: bool) -> None:
        """A call ended (``failed``: with a transient error the library may retry)."""
        with self._lock:
            now = self._clock()
            self._in_flight = max(0, self._in_flight - 1)
            self._failing = failed
            self._last_end = now
            if self._in_flight == 0 and not failed:
                self._close(now)


_current: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("aksio_budget", default=None)
_ambient = threading.local()


def current() -> Budget:
    """The budget of the running request, or this thread's ambient one."""
    active = _current.get()
    if active is not None:
        return active
    ambient: Budget | None = getattr(_ambient, "budget", None)
    if ambient is None:
        ambient = _ambient.budget = Budget(BACKGROUND_CALL_S, renew=True)
    return ambient


@contextmanager
def budget(seconds: float = REQUEST_BUDGET_S, *, renew: bool = False) -> Iterator[Budget]:
    """Run the block with its own Firestore budget (the HTTP edge opens one per request);
    ``renew``: the budget starts over after every call that ends well, so it bounds each wait
    on Firestore, not a long unit of work made of many calls (a scheduled run)."""
    opened = Budget(seconds, renew=renew)
    token = _current.set(opened)
    try:
        yield opened
    finally:
        _current.reset(token)


def is_transient(code: Any) -> bool:
    """Whether a gRPC status code (``grpc.StatusCode``, or None) is one the library retries."""
    return getattr(code, "name", None) in TRANSIENT_CODES


class CallDetails:
    """``grpc.ClientCallDetails`` with another timeout (gRPC reads it by attribute)."""

    __slots__ = ("compression", "credentials", "metadata", "method", "timeout", "wait_for_ready")

    def __init__(
        self,
        method: Any,
        timeout: float | None,
        *,
        metadata: Any,
        credentials: Any,
        wait_for_ready: Any,
        compression: Any,
    ) -> None:
        self.method = method
        self.timeout = timeout
        self.metadata = metadata
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression


def bounded(details: Any, budget: Budget) -> CallDetails:
    """``details`` with the timeout cut to what is left of ``budget`` (which it starts).

    And ``wait_for_ready`` unless the caller chose: while the channel cannot connect (the
    emulator stopped, a connection refused) a call waits for it up to its deadline instead
    of failing at once, so it succeeds as soon as Firestore is back, and a Firestore that
    stays away costs the budget, not the budget plus the library's last back-off."""
    left = budget.begin()
    own = details.timeout
    ready = getattr(details, "wait_for_ready", None)
    return CallDetails(
        details.method,
        left if own is None else min(own, left),
        metadata=details.metadata,
        credentials=details.credentials,
        wait_for_ready=True if ready is None else ready,
        compression=getattr(details, "compression", None),
    )


class Interceptor:
    """Deadlines for every unary and server-streaming call of a gRPC channel.

    The methods of ``grpc.UnaryUnaryClientInterceptor`` and
    ``grpc.UnaryStreamClientInterceptor``; :mod:`aksio.clients` mixes in those base classes
    (importing gRPC here would cost every cold start)."""

    def _call(self, continuation: Callable[[Any, Any], Any], details: Any, request: Any) -> Any:
        active = current()
        try:
            call_details = bounded(details, active)
        except BudgetSpent:
            from aksio import log  # logging, imported when first needed

            log.get_logger("aksio.deadlines").warning("firestore budget spent: %s not sent", details.method)
            raise
        try:
            call = continuation(call_details, request)
        except BaseException:
            active.end(failed=True)
            raise
        # A finished unary call runs the callback at once; a stream runs it when it ends.
        call.add_done_callback(lambda done: active.end(failed=is_transient(done.code())))
        return call

    def intercept_unary_unary(self, continuation: Callable[[Any, Any], Any], details: Any, request: Any) -> Any:
        return self._call(continuation, details, request)

    def intercept_unary_stream(self, continuation: Callable[[Any, Any], Any], details: Any, request: Any) -> Any:
        return self._call(continuation, details, request)


def storage_retry() -> Any:
    """google-cloud-storage's default retry (transient errors; idempotent calls only), bounded
    to :data:`STORAGE_RETRY_S` in all: pass it with ``timeout=STORAGE_TIMEOUT_S``."""
    from google.cloud.storage.retry import DEFAULT_RETRY

    return DEFAULT_RETRY.with_timeout(STORAGE_RETRY_S)


def tasks_retry() -> Any:
    """A retry of ``create_task`` when the service is unavailable, within
    :data:`TASKS_TIMEOUT_S` in all (a task has a fixed name, so a repeat is harmless)."""
    from google.api_core import exceptions, retry

    return retry.Retry(
        initial=0.25,
        maximum=2.0,
        multiplier=2.0,
        predicate=retry.if_exception_type(exceptions.ServiceUnavailable),
        timeout=TASKS_TIMEOUT_S,
    )
