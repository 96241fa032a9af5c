"""In-memory repositories for the service tests: the same transaction contract as Firestore.

A :class:`Memory` holds one user's documents by path. ``run(fn)`` gives ``fn`` a
transaction view that reads the committed state and buffers its writes; reads after a
write are refused (as Firestore's client refuses them); at commit, a document that was
read and has changed since (a concurrent commit) aborts the attempt and ``fn`` runs again
(optimistic concurrency, like Firestore's), up to :data:`ATTEMPTS` times, then
:class:`aksio.errors.Contention`; a ``create`` of an existing document ends the
transaction with nothing written (:class:`aksio.study.repository.Exists`).

``Memory.interleave`` (a function of the memory) runs once, just before the next commit:
the tests use it to land a competing transaction between another one's reads and its
commit.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from aksio import errors
from aksio import firestore as fs
from aksio.ai.base import Usage
from aksio.study import stats as stats_mod
from aksio.study.repository import Exists
from aksio.usage import Meter, limit_for, over_quota, period_key

T = TypeVar("T")
Path = tuple[str, ...]
ATTEMPTS = 5
USER: Path = ("user",)


class Memory:
    def __init__(self) -> None:
        self.docs: dict[Path, dict[str, Any]] = {}
        self.versions: dict[Path, int] = {}
        self.interleave: Callable[[Memory], None] | None = None
        self.commits = 0
        self.attempts = 0

    # -- the StudyStore / GenerationStore contract --------------------------------------

    def run(self, fn: Callable[[Any], T], *, what: str = "") -> T:
        for _ in range(ATTEMPTS):
            self.attempts += 1
            tx = MemoryTx(self)
            result = fn(tx)
            if self.interleave is not None:
                competing, self.interleave = self.interleave, None
                competing(self)
            if any(self.versions.get(p, 0) != v for p, v in tx.read_versions.items()):
                continue  # a document read by this attempt changed: run again on fresh reads
            self._commit(tx)
            return result
        raise errors.Contention()

    def review(self, review_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.docs.get(("reviews", review_id)))

    # -- helpers for tests ------------------------------------------------------------------

    def put(self, path: Path, doc: dict[str, Any]) -> None:
        self.docs[path] = copy.deepcopy(doc)
        self.versions[path] = self.versions.get(path, 0) + 1

    def get(self, path: Path) -> dict[str, Any] | None:
        return self.docs.get(path)

    def paths(self, kind: str) -> list[Path]:
        return [p for p in self.docs if p[0] == kind]

    def _commit(self, tx: MemoryTx) -> None:
        for op, path, _ in tx.writes:
            if op == "create" and path in self.docs:
                raise Exists("/".join(path))
            if op == "update" and path not in self.docs:
                raise errors.NotFound("/".join(path))
        for op, path, value in tx.writes:
            if op == "delete":
                self.docs.pop(path, None)
            elif op == "update":
                self.docs[path] = _merge(self.docs[path], value)
            elif op == "merge":
                self.docs[path] = _merge(self.docs.get(path, {}), value)
            else:
                self.docs[path] = copy.deepcopy(value)
            self.versions[path] = self.versions.get(path, 0) + 1
        if tx.writes:
            self.commits += 1  # commits that wrote something


def _merge(doc: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Apply an update: dotted keys name nested fields; :data:`fs.DELETE` removes one."""
    out = copy.deepcopy(doc)
    for key, value in changes.items():
        parts = key.split(".")
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        if value is fs.DELETE:
            target.pop(parts[-1], None)
        else:
            target[parts[-1]] = copy.deepcopy(value)
    return out


class MemoryTx:
    """Both transaction views at once: :class:`~aksio.study.repository.StudyTx` and
    :class:`~aksio.generation.repository.GenerationTx` (``study`` is itself)."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        self.read_versions: dict[Path, int] = {}
        self.writes: list[tuple[str, Path, Any]] = []
        self.study = self

    def _read(self, path: Path) -> dict[str, Any] | None:
        if self.writes:
            raise AssertionError(f"read of {path} after a write in the same transaction")
        self.read_versions[path] = self.memory.versions.get(path, 0)
        doc = self.memory.docs.get(path)
        return copy.deepcopy(doc) if doc is not None else None

    def _write(self, op: str, path: Path, value: Any = None) -> None:
        self.writes.append((op, path, copy.deepcopy(value)))

    # -- StudyTx --------------------------------------------------------------------------

    def card_and_user(self, card_id: str, *, deck_id: str | None = None, user: bool = True) -> tuple[Any, Any, Any]:
        card = self._read(("cards", card_id))
        owner = self._read(USER) if user else None
        deck = self._read(("decks", deck_id)) if deck_id is not None else None
        return card, owner, deck

    def card(self, card_id: str) -> dict[str, Any] | None:
        return self._read(("cards", card_id))

    def deck(self, deck_id: str) -> dict[str, Any] | None:
        return self._read(("decks", deck_id))

    def cards(self, card_ids: list[str]) -> dict[str, dict[str, Any] | None]:
        return {c: self._read(("cards", c)) for c in card_ids}

    def review(self, review_id: str) -> dict[str, Any] | None:
        return self._read(("reviews", review_id))

    def create_deck(self, deck_id: str, doc: dict[str, Any]) -> None:
        self._write("create", ("decks", deck_id), doc)

    def update_deck(self, deck_id: str, changes: dict[str, Any]) -> None:
        self._write("update", ("decks", deck_id), changes)

    def create_card(self, card_id: str, doc: dict[str, Any]) -> None:
        self._write("create", ("cards", card_id), doc)

    def update_card(self, card_id: str, changes: dict[str, Any]) -> None:
        self._write("update", ("cards", card_id), changes)

    def create_review(self, review_id: str, doc: dict[str, Any]) -> None:
        self._write("create", ("reviews", review_id), doc)

    def update_review(self, review_id: str, changes: dict[str, Any]) -> None:
        self._write("update", ("reviews", review_id), changes)

    def write_user(
        self,
        user: dict[str, Any] | None,
        *,
        stats: dict[str, Any],
        next_due: datetime | None,
        now: datetime,
        extra: dict[str, Any] | None = None,
    ) -> None:
        data: dict[str, Any] = {"stats": stats_mod.normalise(stats), "nextDueAt": next_due} | (extra or {})
        if user is None:
            data["createdAt"] = now
        self._write("merge", USER, data)

    def set_next_due(self, next_due: datetime) -> None:
        self._write("merge", USER, {"nextDueAt": next_due})

    # -- GenerationTx ---------------------------------------------------------------------

    def job(self, job_id: str) -> dict[str, Any] | None:
        return self._read(("jobs", job_id))

    def step_recorded(self, job_id: str, step: int) -> bool:
        return self._read(("steps", job_id, str(step))) is not None

    def drafts(self, job_id: str, card_ids: list[str]) -> dict[str, dict[str, Any] | None]:
        return {c: self._read(("drafts", job_id, c)) for c in card_ids}

    def drafts_present(self, job_id: str, card_ids: list[str]) -> set[str]:
        return {c for c, d in self.drafts(job_id, card_ids).items() if d is not None}

    def charge(self, meter: Meter, now: datetime) -> None:
        user = self._read(USER) or {}
        period = period_key(meter.period, now)
        used = int((self._read(("usage", period)) or {}).get(meter.field) or 0)
        limit = limit_for(meter, user, now)
        if used + 1 > limit:
            raise over_quota(meter, limit, used, now)
        self._write("merge", ("usage", period), {meter.field: used + 1})

    def create_job(self, job_id: str, doc: dict[str, Any]) -> None:
        self._write("create", ("jobs", job_id), doc)

    def create_text_input(self, job_id: str, index: int, text: str) -> None:
        self._write("create", ("inputs", job_id, str(index)), {"text": text, "index": index})

    def update_job(self, job_id: str, changes: dict[str, Any]) -> None:
        self._write("update", ("jobs", job_id), changes)

    def create_step(self, job_id: str, step: int, record: dict[str, Any]) -> None:
        self._write("create", ("steps", job_id, str(step)), record)

    def create_draft(self, job_id: str, card_id: str, doc: dict[str, Any]) -> None:
        self._write("create", ("drafts", job_id, card_id), doc)

    def delete_draft(self, job_id: str, card_id: str) -> None:
        self._write("delete", ("drafts", job_id, card_id))

    def add_tokens(self, spent: Usage, now: datetime) -> None:
        path = ("usage", period_key("month", now))
        current = self.memory.docs.get(path, {})  # an increment: no read, as with Firestore
        self._write(
            "merge",
            path,
            {
                "tokens": int(current.get("tokens") or 0) + spent.total_tokens,
                "modelCalls": int(current.get("modelCalls") or 0) + spent.calls,
            },
        )
