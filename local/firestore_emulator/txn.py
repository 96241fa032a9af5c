"""Transactions and pessimistic document locks.

A read-write transaction locks every document it reads (exclusively) and every document it writes, and holds the
locks until it commits or rolls back, as Firestore's server SDKs get. Another transaction, or a non-transactional
write, that needs a locked document waits for it. Waiting is safe because of three rules:

* a cycle of waiting transactions (a deadlock) is broken by aborting the youngest transaction in it;
* a waiter that has waited :attr:`LockManager.timeout` seconds aborts the holder when the holder is younger or idle,
  otherwise it gives up itself;
* a transaction retried with ``retry_transaction`` keeps the age of the first attempt, so it gets older with every
  retry and is eventually the one that wins.

An aborted ("wounded") transaction loses its locks at once. Its reads are still answered (without locks), since the
client only retries when the commit fails; its commit then fails with ABORTED and the client runs it again.
Every function here expects :attr:`Store.mutex` to be held; waiting releases it. Requests are first tried on the
event loop, which must not wait: there a needed wait raises :class:`WouldBlock` and the request is run again on a
worker thread, which may wait (taking a lock twice is harmless, so the retry is safe).
"""

from __future__ import annotations

import enum
import os
import threading
import time
from dataclasses import dataclass, field

from .errors import aborted, invalid
from .names import DbKey
from .store import Store

LockKey = tuple[DbKey, str]

_thread = threading.local()


class WouldBlock(Exception):
    """Raised instead of waiting for a lock on a thread that must not wait (the event loop's)."""


def forbid_waiting() -> None:
    """Mark the calling thread as one that must never wait for a lock (it raises WouldBlock instead)."""
    _thread.no_wait = True


def _check_may_wait() -> None:
    if getattr(_thread, "no_wait", False):
        raise WouldBlock


FINISHED_MEMORY_SECONDS = 600
"""How long ids of finished transactions are remembered (to refuse their reuse and keep a retry's age)."""
IDLE_EXPIRY_SECONDS = 270
"""A transaction unused for this long expires, as Firestore's do."""


class State(enum.Enum):
    ACTIVE = "active"
    ABORTED = "aborted"
    FINISHED = "finished"


@dataclass(eq=False)
class Transaction:
    id: bytes
    db: DbKey
    priority: int
    """Smaller is older; inherited from the first attempt on retries."""
    read_only: bool = False
    read_time: int | None = None
    """Read-only transactions read at this time."""
    optimistic: bool = False
    """Optimistic transactions take no locks; their commit fails if a document they read has changed."""
    read_versions: dict[str, int | None] = field(default_factory=dict)
    state: State = State.ACTIVE
    locks: set[LockKey] = field(default_factory=set)
    busy: int = 0
    """RPCs in progress for this transaction."""
    last_used: float = field(default_factory=time.monotonic)
    finished_at: float = 0.0

    @property
    def idle_for(self) -> float:
        return 0.0 if self.busy else time.monotonic() - self.last_used


class LockManager:
    """Document locks, the transactions that hold them, and who waits for whom."""

    def __init__(self, store: Store, timeout: float = 10.0) -> None:
        self.store = store
        self.timeout = timeout
        self.transactions: dict[bytes, Transaction] = {}
        self.holders: dict[LockKey, Transaction] = {}
        self.waiting: dict[Transaction, LockKey] = {}
        self._last_cleanup = 0.0

    # --- transaction lifecycle -------------------------------------------------------------------------------

    def begin(
        self, db: DbKey, *, read_only: bool, read_time: int | None, retry: bytes, optimistic: bool
    ) -> Transaction:
        self._cleanup()
        priority = self.store.now()
        if retry:
            previous = self.transactions.get(retry)
            if previous is not None:
                priority = previous.priority
                if previous.state is State.ACTIVE:
                    self._finish(previous, State.FINISHED)
        txn = Transaction(
            id=os.urandom(16),
            db=db,
            priority=priority,
            read_only=read_only,
            read_time=(read_time if read_time is not None else self.store.now()) if read_only else None,
            optimistic=optimistic,
        )
        self.transactions[txn.id] = txn
        return txn

    def lookup(self, db: DbKey, txn_id: bytes) -> Transaction:
        """The transaction ``txn_id``; INVALID_ARGUMENT when unknown, expired, finished or of another database."""
        txn = self.transactions.get(txn_id)
        if txn is None or txn.db != db or txn.state is State.FINISHED:
            raise invalid("The referenced transaction has expired or is no longer valid.")
        if txn.state is State.ACTIVE and txn.idle_for > IDLE_EXPIRY_SECONDS:
            self._finish(txn, State.FINISHED)
            raise invalid("The referenced transaction has expired or is no longer valid.")
        return txn

    def enter(self, txn: Transaction) -> None:
        txn.busy += 1
        txn.last_used = time.monotonic()

    def leave(self, txn: Transaction) -> None:
        txn.busy -= 1
        txn.last_used = time.monotonic()

    def finish(self, txn: Transaction) -> None:
        """Commit or rollback done: release everything."""
        self._finish(txn, State.FINISHED)

    def wound(self, txn: Transaction) -> None:
        """Abort ``txn``: it loses its locks now and its commit will answer ABORTED."""
        if txn.state is State.ACTIVE:
            self._finish(txn, State.ABORTED)

    def abort_database(self, db: DbKey) -> None:
        """Abort every transaction of a database (its data was reset)."""
        for txn in list(self.transactions.values()):
            if txn.db == db:
                self.wound(txn)

    def _finish(self, txn: Transaction, state: State) -> None:
        txn.state = state
        txn.finished_at = time.monotonic()
        for key in txn.locks:
            if self.holders.get(key) is txn:
                del self.holders[key]
        txn.locks.clear()
        self.store.cond.notify_all()

    def _cleanup(self) -> None:
        now = time.monotonic()
        if now - self._last_cleanup < 1.0:
            return
        self._last_cleanup = now
        for txn_id, txn in list(self.transactions.items()):
            if txn.state is State.ACTIVE and txn.idle_for > IDLE_EXPIRY_SECONDS:
                self._finish(txn, State.FINISHED)
            elif txn.state is not State.ACTIVE and now - txn.finished_at > FINISHED_MEMORY_SECONDS:
                del self.transactions[txn_id]

    # --- locks -------------------------------------------------------------------------------------------------

    def lock(self, txn: Transaction, key: LockKey) -> bool:
        """Take ``key`` for ``txn``, waiting as long as needed; False if ``txn`` was aborted meanwhile."""
        if txn.state is not State.ACTIVE:
            return False
        if self.holders.get(key) is txn:
            return True
        deadline = time.monotonic() + self.timeout
        while True:
            if txn.state is not State.ACTIVE:
                return False
            holder = self.holders.get(key)
            if holder is None and not self._older_waiter(key, txn):
                self.holders[key] = txn
                txn.locks.add(key)
                return True
            _check_may_wait()
            self.waiting[txn] = key
            try:
                if holder is not None and self._resolve(txn, holder, deadline):
                    continue
                self.store.cond.wait(0.05)
            finally:
                self.waiting.pop(txn, None)

    def lock_all_at_once(self, keys: list[LockKey], priority: int) -> None:
        """For a non-transactional write: wait until no transaction holds any of ``keys``.

        Nothing is held while waiting, so such a write never takes part in a deadlock. The write then happens
        under the mutex, so it needs no lock of its own. ABORTED after the lock timeout, unless the holders are
        younger or idle, in which case they are aborted instead.
        """
        deadline = time.monotonic() + self.timeout
        while True:
            holders = {self.holders[k] for k in keys if k in self.holders}
            if not holders:
                return
            _check_may_wait()
            if time.monotonic() >= deadline:
                if not all(h.priority > priority or h.idle_for >= self.timeout for h in holders):
                    raise aborted()
                for holder in holders:
                    self.wound(holder)
                continue
            self.store.cond.wait(0.05)

    def _older_waiter(self, key: LockKey, txn: Transaction) -> bool:
        """Free locks go to the oldest waiter first."""
        return any(k == key and other.priority < txn.priority for other, k in self.waiting.items() if other is not txn)

    def _resolve(self, txn: Transaction, holder: Transaction, deadline: float) -> bool:
        """Break a deadlock or a too long wait; True if something was aborted (then look again)."""
        cycle = self._cycle(txn)
        if cycle:
            self.wound(max(cycle, key=lambda t: t.priority))
            return True
        if time.monotonic() >= deadline:
            if holder.priority > txn.priority or holder.idle_for >= self.timeout:
                self.wound(holder)
            else:
                self.wound(txn)
            return True
        return False

    def _cycle(self, start: Transaction) -> list[Transaction]:
        """The transactions of a waits-for cycle through ``start``, or [] when there is none."""
        chain = [start]
        current = start
        while True:
            key = self.waiting.get(current)
            if key is None:
                return []
            holder = self.holders.get(key)
            if holder is None:
                return []
            if holder is start:
                return chain
            if holder in chain:
                return []
            chain.append(holder)
            current = holder

    def check_commit(self, txn: Transaction) -> None:
        """Raise ABORTED if ``txn`` lost its locks (wounded) before committing."""
        if txn.state is State.ABORTED:
            self._finish(txn, State.FINISHED)
            raise aborted()
