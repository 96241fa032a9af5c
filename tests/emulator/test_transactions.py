"""Transactions: pessimistic locks that never lose an update, deadlocks broken, Firestore's error codes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from google.api_core.exceptions import Aborted, InvalidArgument
from google.cloud import firestore
from google.cloud.firestore_v1.transaction import Transaction


def test_eight_threads_of_25_increments_end_at_200_and_no_transaction_gives_up(
    make_client: Callable[..., firestore.Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    retries: list[bytes] = []
    begin = Transaction._begin

    def counting_begin(self: Transaction, retry_id: bytes | None = None) -> None:
        if retry_id is not None:
            retries.append(retry_id)
        begin(self, retry_id)

    monkeypatch.setattr(Transaction, "_begin", counting_begin)
    make_client().document("counters/one").set({"n": 0})
    failures: list[BaseException] = []

    def worker() -> None:
        client = make_client()
        ref = client.document("counters/one")

        @firestore.transactional
        def increment(transaction: Transaction) -> None:
            snapshot = ref.get(transaction=transaction)
            transaction.update(ref, {"n": snapshot.get("n") + 1})

        for _ in range(25):
            try:
                increment(client.transaction())  # the client's default: 5 attempts
            except BaseException as error:
                failures.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert make_client().document("counters/one").get().get("n") == 200
    assert len(retries) < 40, "contention should mostly wait for the lock, not abort"


def test_deadlock_aborts_one_transaction_which_then_succeeds_on_retry(
    make_client: Callable[..., firestore.Client],
) -> None:
    """Two transactions take two documents in opposite orders; both end up committed, nothing lost."""
    client = make_client()
    client.document("d/a").set({"n": 0})
    client.document("d/b").set({"n": 0})
    both_read_first = threading.Barrier(2, timeout=10)
    attempts = {"ab": 0, "ba": 0}
    failures: list[BaseException] = []

    def run(first: str, second: str, label: str) -> None:
        own = make_client()

        @firestore.transactional
        def move(transaction: Transaction) -> None:
            attempts[label] += 1
            one = own.document(f"d/{first}")
            two = own.document(f"d/{second}")
            value = one.get(transaction=transaction).get("n")
            if attempts[label] == 1:
                both_read_first.wait()
            other = two.get(transaction=transaction).get("n")
            transaction.update(one, {"n": value + 1})
            transaction.update(two, {"n": other + 1})

        try:
            move(own.transaction())
        except BaseException as error:
            failures.append(error)

    threads = [
        threading.Thread(target=run, args=("a", "b", "ab")),
        threading.Thread(target=run, args=("b", "a", "ba")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert client.document("d/a").get().get("n") == 2
    assert client.document("d/b").get().get("n") == 2
    assert attempts["ab"] + attempts["ba"] == 3, "exactly one of the two was aborted and retried"


def test_non_transactional_write_waits_for_the_lock_of_a_transaction(db: firestore.Client) -> None:
    ref = db.document("locks/doc")
    ref.set({"v": "initial"})
    transaction = db.transaction()
    transaction._begin()
    assert ref.get(transaction=transaction).get("v") == "initial"  # now locked by the transaction
    written = threading.Event()

    def outside_write() -> None:
        ref.set({"v": "outside"})
        written.set()

    writer = threading.Thread(target=outside_write)
    writer.start()
    assert not written.wait(0.5), "the write must wait while the transaction holds the document"
    transaction.update(ref, {"v": "transaction"})
    transaction._commit()
    assert written.wait(5)
    writer.join()
    assert ref.get().get("v") == "outside"  # applied after the transaction, on top of its result


def test_transaction_that_outlives_the_lock_timeout_is_aborted_at_commit(db: firestore.Client) -> None:
    """An idle holder blocking a writer for longer than the lock timeout (2 s here) loses its lock."""
    ref = db.document("locks/idle")
    ref.set({"v": 0})
    transaction = db.transaction()
    transaction._begin()
    ref.get(transaction=transaction)
    started = time.monotonic()
    ref.set({"v": 1})  # waits for the lock timeout, then aborts the idle transaction
    assert 1.5 < time.monotonic() - started < 10
    transaction.update(ref, {"v": 2})
    with pytest.raises(Aborted):
        transaction._commit()
    assert ref.get().get("v") == 1


def test_read_only_transaction_reads_a_fixed_snapshot_and_cannot_write(db: firestore.Client) -> None:
    ref = db.document("ro/doc")
    ref.set({"v": 1})
    transaction = db.transaction(read_only=True)
    transaction._begin()
    assert ref.get(transaction=transaction).get("v") == 1
    ref.set({"v": 2})  # not blocked: read-only transactions take no locks
    assert ref.get(transaction=transaction).get("v") == 1
    request = {"database": db._database_string, "writes": [], "transaction": transaction._id}
    db._firestore_api.commit(request=request)  # committing no writes is fine
    transaction = db.transaction(read_only=True)
    transaction._begin()
    write = {"update": {"name": ref._document_path, "fields": {}}}
    with pytest.raises(InvalidArgument):
        db._firestore_api.commit(
            request={"database": db._database_string, "writes": [write], "transaction": transaction._id}
        )


def test_commit_of_unknown_or_used_transaction_is_invalid_argument(db: firestore.Client) -> None:
    with pytest.raises(InvalidArgument):
        db._firestore_api.commit(request={"database": db._database_string, "writes": [], "transaction": b"nope"})
    transaction = db.transaction()
    transaction._begin()
    used = transaction._id
    transaction._commit()
    with pytest.raises(InvalidArgument):
        db._firestore_api.commit(request={"database": db._database_string, "writes": [], "transaction": used})


def test_rolled_back_transaction_writes_nothing(db: firestore.Client) -> None:
    ref = db.document("rb/doc")

    @firestore.transactional
    def create_then_fail(transaction: Transaction) -> None:
        transaction.create(ref, {"v": 1})
        raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        create_then_fail(db.transaction())
    assert not ref.get().exists


def test_optimistic_transaction_aborts_when_what_it_read_changed(db: firestore.Client) -> None:
    ref = db.document("opt/doc")
    ref.set({"v": 1})
    api = db._firestore_api
    begun = api.begin_transaction(
        request={"database": db._database_string, "options": {"read_write": {"concurrency_mode": "OPTIMISTIC"}}}
    )
    list(
        api.batch_get_documents(
            request={
                "database": db._database_string,
                "documents": [ref._document_path],
                "transaction": begun.transaction,
            }
        )
    )
    ref.set({"v": 2})  # an optimistic read takes no lock, so this does not wait
    write = {"update": {"name": ref._document_path, "fields": {"v": {"integer_value": 3}}}}
    with pytest.raises(Aborted):
        api.commit(request={"database": db._database_string, "writes": [write], "transaction": begun.transaction})
    assert ref.get().get("v") == 2
