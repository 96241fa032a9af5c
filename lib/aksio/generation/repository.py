"""Generation's repository: the only code that reads and writes ``users/{uid}/jobs`` (the
job, its ``steps/{n}`` records, its ``drafts/{cardId}``; pasted-text ``inputs/{n}`` are in
:mod:`aksio.generation.inputs`).

A step's commit spans packages: its cards go through the study core's transaction view
(:class:`aksio.study.repository.StudyTx`, the ``study`` attribute), its tokens through
:mod:`aksio.usage`, both inside the same Firestore transaction as the job and step record.
Services run on :class:`GenerationStore` (Firestore here; in memory in the service tests).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from aksio import firestore as fs
from aksio import usage
from aksio.account import service as account
from aksio.ai.base import Usage
from aksio.study.repository import FirestoreStudyTx, StudyTx

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

T = TypeVar("T")
JOBS = "jobs"


def jobs_col(db: Client, uid: str) -> Any:
    return fs.user_col(db, uid, JOBS)


def job_ref(db: Client, uid: str, job_id: str) -> Any:
    return jobs_col(db, uid).document(job_id)


def step_ref(job: Any, step: int) -> Any:
    return job.collection("steps").document(f"{step:04d}")


class GenerationTx(Protocol):
    """One user's jobs (and, through ``study``, cards and decks) inside one transaction."""

    study: StudyTx

    def job(self, job_id: str) -> dict[str, Any] | None: ...

    def step_recorded(self, job_id: str, step: int) -> bool: ...

    def drafts_present(self, job_id: str, card_ids: list[str]) -> set[str]: ...

    def drafts(self, job_id: str, card_ids: list[str]) -> dict[str, dict[str, Any] | None]: ...

    def charge(self, meter: usage.Meter, now: datetime) -> None: ...

    def create_job(self, job_id: str, doc: dict[str, Any]) -> None: ...

    def create_text_input(self, job_id: str, index: int, text: str) -> None: ...

    def update_job(self, job_id: str, changes: dict[str, Any]) -> None: ...

    def create_step(self, job_id: str, step: int, record: dict[str, Any]) -> None: ...

    def create_draft(self, job_id: str, card_id: str, doc: dict[str, Any]) -> None: ...

    def delete_draft(self, job_id: str, card_id: str) -> None: ...

    def add_tokens(self, spent: Usage, now: datetime) -> None: ...


class GenerationStore(Protocol):
    def run(self, fn: Callable[[GenerationTx], T], *, what: str = "generation") -> T: ...


class FirestoreGenerationTx:
    def __init__(self, db: Client, uid: str, tx: Any) -> None:
        self.db, self.uid, self.tx = db, uid, tx
        self.study: StudyTx = FirestoreStudyTx(db, uid, tx)

    def _job(self, job_id: str) -> Any:
        return job_ref(self.db, self.uid, job_id)

    def _draft(self, job_id: str, card_id: str) -> Any:
        return self._job(job_id).collection("drafts").document(card_id)

    def job(self, job_id: str) -> dict[str, Any] | None:
        return fs.read(self._job(job_id), self.tx)

    def step_recorded(self, job_id: str, step: int) -> bool:
        return fs.read(step_ref(self._job(job_id), step), self.tx) is not None

    def drafts(self, job_id: str, card_ids: list[str]) -> dict[str, dict[str, Any] | None]:
        if not card_ids:
            return {}
        refs = [self._draft(job_id, c) for c in card_ids]
        snaps = fs.get_all(self.tx, refs)
        return {r.id: fs.read_snapshot(snaps[r.path]) for r in refs}

    def drafts_present(self, job_id: str, card_ids: list[str]) -> set[str]:
        return {c for c, d in self.drafts(job_id, card_ids).items() if d is not None}

    def charge(self, meter: usage.Meter, now: datetime) -> None:
        usage.charge_in(self.tx, self.db, self.uid, meter, now)

    def create_job(self, job_id: str, doc: dict[str, Any]) -> None:
        self.tx.create(self._job(job_id), doc)

    def create_text_input(self, job_id: str, index: int, text: str) -> None:
        from aksio.generation import inputs

        self.tx.create(inputs.text_input_ref(self.db, self.uid, job_id, index), {"text": text, "index": index})

    def update_job(self, job_id: str, changes: dict[str, Any]) -> None:
        self.tx.update(self._job(job_id), fs.stored(changes))

    def create_step(self, job_id: str, step: int, record: dict[str, Any]) -> None:
        self.tx.create(step_ref(self._job(job_id), step), record)

    def create_draft(self, job_id: str, card_id: str, doc: dict[str, Any]) -> None:
        self.tx.create(self._draft(job_id, card_id), doc)

    def delete_draft(self, job_id: str, card_id: str) -> None:
        self.tx.delete(self._draft(job_id, card_id))

    def add_tokens(self, spent: Usage, now: datetime) -> None:
        usage.add_tokens_in(self.tx, self.db, self.uid, spent.prompt_tokens, spent.completion_tokens, spent.calls, now)


class FirestoreGeneration:
    """:class:`GenerationStore` on Firestore, for one user."""

    def __init__(self, db: Client, uid: str) -> None:
        self.db, self.uid = db, uid

    def run(self, fn: Callable[[GenerationTx], T], *, what: str = "generation") -> T:
        """``fn`` in a transaction that first reads the account's tombstone: for an account
        being deleted it raises :class:`aksio.account.service.AccountDeleted`, writing nothing."""

        def body(tx: Any) -> T:
            account.refuse_if_deleted_in(tx, self.db, self.uid)
            return fn(FirestoreGenerationTx(self.db, self.uid, tx))

        return fs.run_transaction(self.db, body, what=what)


# -- outside transactions -------------------------------------------------------------------


def read_job(db: Client, uid: str, job_id: str) -> dict[str, Any] | None:
    return fs.read(job_ref(db, uid, job_id))


def step_record(db: Client, uid: str, job_id: str, step: int) -> dict[str, Any] | None:
    return fs.read(step_ref(job_ref(db, uid, job_id), step))


def page_jobs(db: Client, uid: str, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    from aksio import paging

    return paging.page(paging.newest_first(jobs_col(db, uid)), "createdAt", cursor, limit)


def list_drafts(db: Client, uid: str, job_id: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
    query = job_ref(db, uid, job_id).collection("drafts").order_by("createdAt").limit(limit)
    return [(s.id, fs.data_of(s)) for s in query.stream()]


def draft_ids(db: Client, uid: str, job_id: str, limit: int) -> list[str]:
    return [s.id for s in job_ref(db, uid, job_id).collection("drafts").select([]).limit(limit).stream()]


def add_failed_calls(db: Client, uid: str, job_id: str, calls: int) -> None:
    """Model calls of failed attempts (billed, or maybe): they count against the job's calls."""
    from google.cloud import firestore

    job_ref(db, uid, job_id).update({"failedCalls": firestore.Increment(calls)})


def set_last_error(db: Client, uid: str, job_id: str, error: dict[str, Any], now: datetime) -> None:
    job_ref(db, uid, job_id).update({"lastError": error, "updatedAt": now})


def delete_user_jobs(db: Client, uid: str) -> int:
    """Account deletion: every job with its steps, drafts and inputs."""
    return fs.delete_collection(db, jobs_col(db, uid), nested=("steps", "drafts", "inputs"))
