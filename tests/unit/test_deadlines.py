"""The Firestore time budget (aksio.deadlines) and the interceptor that enforces it.

The budget and the interceptor's logic are tested with a fake clock and fake calls (no I/O);
the last tests check, against a loopback socket that accepts and never answers, that the
client built by aksio.clients really sends every RPC through the interceptor, on the
emulator's insecure channel and on the production TLS channel alike (they fail if a library
upgrade moves the seam described in aksio.deadlines).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from aksio import deadlines, errors
from aksio.deadlines import Budget, BudgetSpent, CallDetails, Interceptor
from aksio.edge import dependency_error


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


# -- the budget -------------------------------------------------------------------------------


def test_only_time_spent_waiting_on_firestore_counts(clock: Clock) -> None:
    budget = Budget(10, clock=clock)
    assert budget.begin() == 10
    clock.advance(2)
    budget.end(failed=False)
    clock.advance(30)  # a model call, CPU work: not Firestore's time
    assert budget.remaining() == pytest.approx(8)
    assert budget.begin() == pytest.approx(8)
    clock.advance(1)
    budget.end(failed=False)
    assert budget.remaining() == pytest.approx(7)


def test_overlapping_calls_count_once(clock: Clock) -> None:
    budget = Budget(10, clock=clock)
    budget.begin()
    clock.advance(1)
    budget.begin()  # a stream still open while another call runs
    clock.advance(2)
    budget.end(failed=False)
    clock.advance(1)
    budget.end(failed=False)
    assert budget.remaining() == pytest.approx(6)


def test_after_a_transient_failure_the_back_off_counts_until_a_call_ends_well(clock: Clock) -> None:
    budget = Budget(10, clock=clock)
    budget.begin()
    clock.advance(0.01)
    budget.end(failed=True)  # UNAVAILABLE at once: the library sleeps, then tries again
    clock.advance(3)
    assert budget.begin() == pytest.approx(10 - 3.01)
    clock.advance(0.01)
    budget.end(failed=True)
    clock.advance(6.99)
    with pytest.raises(BudgetSpent):
        budget.begin()


def test_a_hung_call_spends_the_budget_and_the_next_attempt_is_refused(clock: Clock) -> None:
    budget = Budget(10, clock=clock)
    timeout = budget.begin()
    clock.advance(timeout)
    budget.end(failed=True)  # DEADLINE_EXCEEDED
    clock.advance(0.05)  # the library's first back-off
    with pytest.raises(BudgetSpent) as spent:
        budget.begin()
    assert isinstance(spent.value, errors.Unavailable)
    assert (spent.value.code, spent.value.retry_after) == ("unavailable", 5)
    with pytest.raises(BudgetSpent):  # and stays spent for the rest of the request
        budget.begin()


def test_a_pause_longer_than_the_budget_after_a_failure_is_not_back_off(clock: Clock) -> None:
    budget = Budget(10, clock=clock)
    budget.begin()
    clock.advance(2)
    budget.end(failed=True)  # caught by the caller, which then works on for a while
    clock.advance(60)
    assert budget.begin() == pytest.approx(8)  # charged up to the failure, not the pause


def test_renewing_budget_bounds_one_call_not_the_work_around_it(clock: Clock) -> None:
    budget = Budget(30, renew=True, clock=clock)
    for _ in range(5):  # many calls of 20 s each: each one is within the budget
        assert budget.begin() == 30
        clock.advance(20)
        budget.end(failed=False)
    budget.begin()
    clock.advance(30)
    budget.end(failed=True)
    with pytest.raises(BudgetSpent):
        budget.begin()
    assert budget.begin() == 30  # the call gave up; the next one starts over


def test_the_edge_budget_is_per_context_and_the_ambient_one_per_thread() -> None:
    ambient = deadlines.current()
    assert ambient.renew
    assert ambient.seconds == deadlines.BACKGROUND_CALL_S
    with deadlines.budget(3) as outer:
        assert deadlines.current() is outer
        assert not outer.renew
        with deadlines.budget(1) as inner:
            assert deadlines.current() is inner
        assert deadlines.current() is outer
    assert deadlines.current() is ambient
    seen: list[Budget] = []
    thread = threading.Thread(target=lambda: seen.append(deadlines.current()))
    thread.start()
    thread.join()
    assert seen[0] is not ambient
    assert seen[0].renew


# -- the interceptor's logic, with fake calls ----------------------------------------------------


class FakeCall:
    """A finished unary call, or a stream that ends when ``finish`` is called."""

    def __init__(self, code: grpc.StatusCode | None) -> None:
        self._code = code
        self._callbacks: list[Callable[[Any], None]] = []

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def add_done_callback(self, fn: Callable[[Any], None]) -> None:
        if self._code is None:
            self._callbacks.append(fn)
        else:
            fn(self)

    def finish(self, code: grpc.StatusCode) -> None:
        self._code = code
        for fn in self._callbacks:
            fn(self)


def details(timeout: float | None) -> CallDetails:
    return CallDetails(
        "/google.firestore.v1.Firestore/Commit",
        timeout,
        metadata=(("k", "v"),),
        credentials=None,
        wait_for_ready=None,
        compression=None,
    )


def test_interceptor_cuts_each_timeout_to_the_budget_left(clock: Clock) -> None:
    sent: list[CallDetails] = []

    def continuation(d: CallDetails, request: Any) -> FakeCall:
        sent.append(d)
        clock.advance(1)
        return FakeCall(grpc.StatusCode.OK)

    with deadlines.budget(10) as budget:
        budget._clock = clock
        Interceptor().intercept_unary_unary(continuation, details(60.0), "req")
        Interceptor().intercept_unary_unary(continuation, details(None), "req")
        Interceptor().intercept_unary_unary(continuation, details(3.0), "req")
    assert [d.timeout for d in sent] == [10, 9, 3]
    assert all(d.wait_for_ready is True and d.metadata == (("k", "v"),) for d in sent)
    assert budget.remaining() == pytest.approx(7)


def test_interceptor_refuses_a_call_once_the_budget_is_spent(clock: Clock) -> None:
    calls: list[str] = []

    def hung(d: CallDetails, request: Any) -> FakeCall:
        calls.append(d.method)
        clock.advance(d.timeout or 0)
        return FakeCall(grpc.StatusCode.DEADLINE_EXCEEDED)

    with deadlines.budget(10) as budget:
        budget._clock = clock
        call = Interceptor().intercept_unary_unary(hung, details(60.0), "req")
        assert call.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        with pytest.raises(BudgetSpent):  # the library's retry: not sent, not retried again
            Interceptor().intercept_unary_unary(hung, details(50.0), "req")
    assert len(calls) == 1


def test_a_stream_is_charged_until_it_ends(clock: Clock) -> None:
    stream = FakeCall(None)
    with deadlines.budget(10) as budget:
        budget._clock = clock
        returned = Interceptor().intercept_unary_stream(lambda d, r: stream, details(300.0), "req")
        assert returned is stream
        clock.advance(4)
        assert budget.remaining() == pytest.approx(6)  # still open: still counting
        stream.finish(grpc.StatusCode.OK)
        clock.advance(5)
        assert budget.remaining() == pytest.approx(6)


def test_a_continuation_that_raises_ends_the_call_as_failed(clock: Clock) -> None:
    def broken(d: CallDetails, request: Any) -> FakeCall:
        raise RuntimeError("serialization")

    with deadlines.budget(10) as budget:
        budget._clock = clock
        with pytest.raises(RuntimeError):
            Interceptor().intercept_unary_stream(broken, details(None), "req")
        clock.advance(2)
        assert budget.remaining() == pytest.approx(8)  # failing: the clock runs on


# -- the real client, against a socket that never answers ----------------------------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never sends a byte (a hung server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def _client(monkeypatch: pytest.MonkeyPatch, port: int, *, emulator: bool) -> Any:
    from google.auth.credentials import AnonymousCredentials

    from aksio import clients

    if emulator:
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{port}")
        return clients._firestore_class()(project="demo-deadlines")
    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
    return clients._firestore_class()(
        project="demo-deadlines",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options={"api_endpoint": f"127.0.0.1:{port}"},
    )


@pytest.mark.parametrize("emulator", [True, False], ids=["emulator-insecure-channel", "production-tls-channel"])
def test_every_rpc_of_the_client_goes_through_the_budget(
    monkeypatch: pytest.MonkeyPatch, silent_port: int, emulator: bool
) -> None:
    from google.cloud import firestore

    db = _client(monkeypatch, silent_port, emulator=emulator)
    doc = db.collection("decks").document("d1")
    operations: dict[str, Callable[[], Any]] = {
        "get (BatchGetDocuments, stream)": doc.get,
        "query (RunQuery, stream)": lambda: list(db.collection("decks").limit(5).stream()),
        "set (Commit, unary)": lambda: doc.set({"name": "x"}),
        "transaction (BeginTransaction)": lambda: firestore.transactional(lambda tx: tx.get(doc))(db.transaction()),
    }
    for name, operation in operations.items():
        started = time.monotonic()
        failure: Exception | None = None
        with deadlines.budget(0.5):
            try:
                operation()
            except Exception as exc:
                failure = exc
        took = time.monotonic() - started
        # A 503 at the edge: BudgetSpent, or DeadlineExceeded for a call the library does not
        # retry (Commit), or the transaction's ValueError raised while handling BudgetSpent.
        assert failure is not None, name
        assert dependency_error(failure) is not None, (name, failure)
        assert took < 2.0, (name, took)
    db.close()


def test_outside_a_request_the_ambient_budget_bounds_a_hung_call(
    monkeypatch: pytest.MonkeyPatch, silent_port: int
) -> None:
    monkeypatch.setattr(deadlines, "BACKGROUND_CALL_S", 0.5)
    db = _client(monkeypatch, silent_port, emulator=True)
    outcome: list[Any] = []

    def background() -> None:  # a fresh thread: its own ambient budget, made with the patched value
        started = time.monotonic()
        try:
            db.collection("decks").document("d1").get()
        except Exception as exc:
            outcome.append((exc, time.monotonic() - started))

    thread = threading.Thread(target=background)
    thread.start()
    thread.join(10)
    exc, took = outcome[0]
    assert isinstance(exc, BudgetSpent)
    assert took < 2.0
    db.close()


def test_storage_and_tasks_retries_are_bounded() -> None:
    assert deadlines.storage_retry().timeout == deadlines.STORAGE_RETRY_S
    retry = deadlines.tasks_retry()
    assert retry.timeout == deadlines.TASKS_TIMEOUT_S
    from google.api_core import exceptions

    assert retry._predicate(exceptions.ServiceUnavailable("down"))
    assert not retry._predicate(exceptions.AlreadyExists("named task"))


def test_a_hung_tasks_service_costs_enqueue_step_the_tasks_deadline(
    monkeypatch: pytest.MonkeyPatch, silent_port: int
) -> None:
    from google.api_core import exceptions

    from aksio import clients, tasks

    monkeypatch.setattr(deadlines, "TASKS_TIMEOUT_S", 0.5)
    monkeypatch.setenv("CLOUD_TASKS_EMULATOR_HOST", f"127.0.0.1:{silent_port}")
    monkeypatch.setenv("GATEWAY_URL", "http://127.0.0.1:9")
    clients.reset_clients()
    started = time.monotonic()
    try:
        with pytest.raises(exceptions.DeadlineExceeded):
            tasks.enqueue_step("u1", "job1", 0)
    finally:
        clients.reset_clients()
    assert time.monotonic() - started < 2.0
