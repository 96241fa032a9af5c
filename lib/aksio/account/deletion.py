"""Deleting an account and everything of it: a resumable, idempotent job.

``DELETE /account`` (a sign-in within :data:`RECENT_SIGN_IN` and ``{"confirm": "DELETE"}``)
writes the tombstone ``deletedAccounts/{hash of uid}`` first, in a transaction: from then on
every domain's path for work in flight (a Stripe event, a generation step, an upload event, a
reminder run) sees it and writes nothing. Then the job runs, one Cloud Tasks task per step,
each step idempotent, its progress kept in the tombstone (a step delivered twice, or re-run
after a crash, does the same again; a later step never runs before an earlier one ended):

1. ``stripe``: disable the Auth user (no new session), cancel the subscription at once and
   delete the Stripe customer;
2. ``storage``: every object of the user (uploads, exports, import files);
3. ``firestore``: each domain deletes its own collections, then what remains of
   ``users/{uid}`` is deleted recursively, in batches;
4. ``mappings``: the global records naming the user (Stripe customer map, processed Stripe
   events, device tokens);
5. ``auth``: a last sweep of ``users/{uid}``, then the Firebase Auth user (last, so the user
   could always retry the request while anything else was left).

The tombstone names nobody (its id is a hash) and expires after :data:`TOMBSTONE_KEEP`,
longer than Stripe retries an event (3 days) or a task can wait in the queue.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aksio import errors, log
from aksio import firestore as fs
from aksio.account import activity
from aksio.account import repository as repo
from aksio.wire import compact, iso

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

    from aksio.auth import Caller

_log = log.get_logger("aksio.account.deletion")
Json = dict[str, Any]
STEPS = ("stripe", "storage", "firestore", "mappings", "auth")
RECENT_SIGN_IN = timedelta(minutes=5)
TOMBSTONE_KEEP = timedelta(days=30)
CONFIRMATION = "DELETE"
Enqueue = Callable[[str, int], bool]


class StepOutOfOrder(Exception):
    """A step arrived before the previous one ended (the queue retries it)."""


def check_recent_sign_in(caller: Caller, now: float | None = None) -> None:
    """401 ``reauthentication_required`` unless the token's ``auth_time`` is recent."""
    at = caller.claims.get("auth_time")
    now = time.time() if now is None else now
    if not isinstance(at, int | float) or now - at > RECENT_SIGN_IN.total_seconds():
        raise errors.Unauthenticated(
            "Deleting the account needs a recent sign-in: sign in again, then retry within 5 minutes.",
            code="reauthentication_required",
        )


def view(data: dict[str, Any]) -> Json:
    step = int(data.get("step") or 0)
    return compact(
        {
            "status": data.get("status", "running"),
            "step": STEPS[step] if step < len(STEPS) else None,
            "stepsDone": min(step, len(STEPS)),
            "stepsTotal": len(STEPS),
            "requestedAt": iso(data.get("requestedAt")),
            "completedAt": iso(data.get("completedAt")),
        }
    )


def task_name(uid: str, step: int) -> str:
    digest = hashlib.sha256(f"delete/{uid}".encode()).hexdigest()[:24]
    return f"acct-del-{digest}-s{step}"


def default_enqueue(uid: str, step: int) -> bool:
    from aksio import tasks

    payload = {"kind": "delete", "uid": uid, "step": step}
    return tasks.enqueue_call("account-jobs", task_name(uid, step), payload)


def request(db: Client, caller: Caller, confirm: str, *, enqueue: Enqueue | None = None) -> tuple[Json, bool]:
    """Start (or find) the deletion of the caller's account: ``(state, started now)``."""
    if confirm != CONFIRMATION:
        raise errors.Invalid(
            f'Send {{"confirm": "{CONFIRMATION}"}} to delete the account and everything of it.',
            code="confirmation_required",
        )
    check_recent_sign_in(caller)
    uid, now = caller.uid, fs.utcnow()

    def run(tx: Any) -> tuple[dict[str, Any], bool]:
        existing = repo.read_tombstone(db, uid, tx)
        if existing is not None:
            return existing, False
        doc = {"status": "running", "step": 0, "requestedAt": now, "expireAt": now + TOMBSTONE_KEEP}
        activity.record_in(tx, db, uid, "deletion_requested", now.isoformat())
        repo.create_tombstone_in(tx, db, uid, doc)
        return doc, True

    data, created = fs.run_transaction(db, run, what="account deletion request")
    step = int(data.get("step") or 0)
    if data.get("status") != "done":
        (enqueue or default_enqueue)(uid, step)  # a repeat re-enqueues the current step (same name)
    _log.info("account deletion requested", extra={"uid": uid, "step": step, "new": created})
    return view(data), created


def _block_sign_in(uid: str) -> None:
    """No new session from now on: the Auth user is disabled (and deleted last). The job's
    first step does it, not the request: the account function signs URLs and so holds no
    Auth admin rights (terraform: signing and Auth admin never share a service account)."""
    from firebase_admin import auth

    from aksio.auth import firebase_app

    try:
        auth.update_user(uid, disabled=True, app=firebase_app())
        auth.revoke_refresh_tokens(uid, app=firebase_app())
    except auth.UserNotFoundError:
        pass


# -- the steps -----------------------------------------------------------------------------


def perform(db: Client, uid: str, name: str) -> int:
    """Do step ``name`` (idempotent: once done, doing it again changes nothing). Returns how
    many things it deleted."""
    if name == "stripe":
        from aksio.billing import service as billing

        _block_sign_in(uid)
        return billing.close_customer(db, uid)
    if name == "storage":
        from aksio.account import export, imports
        from aksio.clients import storage_client
        from aksio.config import get_config
        from aksio.documents import service as documents

        bucket = storage_client().bucket(get_config().upload_bucket)
        files = documents.delete_user_files(bucket, uid) + export.delete_user_files(bucket, uid)
        return files + imports.delete_user_files(bucket, uid)
    if name == "firestore":
        return delete_firestore(db, uid)
    if name == "mappings":
        from aksio.billing import service as billing
        from aksio.reminders import service as reminders

        return billing.forget_user(db, uid) + reminders.forget_user(db, uid)
    if name == "auth":
        return repo.delete_user_tree(db, uid) - 1 + _delete_auth_user(uid)
    raise ValueError(f"unknown step {name!r}")


def delete_firestore(db: Client, uid: str) -> int:
    """Each domain's collections of the user, then the rest of ``users/{uid}``."""
    from aksio import usage
    from aksio.chat import service as chat
    from aksio.documents import service as documents
    from aksio.generation import service as generation
    from aksio.reminders import service as reminders
    from aksio.study import service as study

    deleted = 0
    for part in (
        study.delete_user_data,
        documents.delete_user_data,
        chat.delete_user_data,
        generation.delete_user_data,
        reminders.delete_user_data,
        usage.delete_user_usage,
        repo.delete_account_collections,
    ):
        deleted += part(db, uid)
    return deleted + repo.delete_user_tree(db, uid)


def _delete_auth_user(uid: str) -> int:
    from firebase_admin import auth

    from aksio.auth import firebase_app

    try:
        auth.delete_user(uid, app=firebase_app())
    except auth.UserNotFoundError:
        return 0
    return 1


def run_step(db: Client, uid: str, step: int, *, enqueue: Enqueue | None = None) -> str:
    """One task of the job: ``done`` (and the next step enqueued), ``finished`` (the job is
    over), ``duplicate`` (this step ended before), ``no_deletion``. A step that arrives early
    raises :class:`StepOutOfOrder`."""
    data = repo.read_tombstone(db, uid)
    if data is None:
        return "no_deletion"
    current = int(data.get("step") or 0)
    if data.get("status") == "done" or step >= len(STEPS):
        return "finished"
    if step < current:
        return "duplicate"
    if step > current:
        raise StepOutOfOrder(f"step {step} arrived before step {current} ended")
    count = perform(db, uid, STEPS[step])
    last = step + 1 == len(STEPS)
    changes: dict[str, Any] = {"step": step + 1, f"deleted.{STEPS[step]}": count}
    if last:
        changes |= {"status": "done", "completedAt": fs.utcnow()}
    repo.update_tombstone(db, uid, changes)
    _log.info("account deletion step %s done", STEPS[step], extra={"uid": uid, "deleted": count})
    if not last:
        (enqueue or default_enqueue)(uid, step + 1)
    return "done"


def resume(db: Client, uid: str) -> list[str]:
    """Run the remaining steps here, in order (for tests and operators: the queue does the
    same one task at a time)."""
    outcomes: list[str] = []
    queued: list[int] = []

    def enqueue(_uid: str, step: int) -> bool:
        queued.append(step)
        return True

    data = repo.read_tombstone(db, uid)
    if data is None:
        return ["no_deletion"]
    queued.append(int(data.get("step") or 0))
    while queued:
        outcomes.append(run_step(db, uid, queued.pop(0), enqueue=enqueue))
    return outcomes
