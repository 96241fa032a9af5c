"""Deleting an account: the request's guards, the job through the stack's Cloud Tasks, a scan
of every store afterwards, the job interrupted at each step and resumed, and work that
arrives after (or during) the deletion writing nothing."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from aksio.account import deletion
from aksio.account import repository as account_repo
from aksio.auth import Caller as AuthCaller
from tests.conftest import ApiClient, User, task_headers
from tests.e2e.account.conftest import Footprint, scan_everything, wait_deleted
from tests.e2e.billing.conftest import LocalStripe, Webhook
from tests.unit.billing import events as ev

pytestmark = pytest.mark.stack
CONFIRM = {"confirm": "DELETE"}


def _token_signed_in_at(user: User, seconds_ago: int) -> str:
    """The user's ID token with its sign-in time moved back (the Auth emulator's tokens are
    unsigned; every other claim stays as the emulator issued it)."""
    header, payload, signature = user.id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["auth_time"] = int(time.time()) - seconds_ago
    moved = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{moved}.{signature}"


def test_deletion_needs_a_recent_sign_in_and_the_confirmation(gateway_url: str, user: User, firestore_db: Any) -> None:
    url = f"{gateway_url}/account"
    stale = {"Authorization": f"Bearer {_token_signed_in_at(user, 6 * 60)}"}
    r = requests.delete(url, json=CONFIRM, headers=stale, timeout=30)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "reauthentication_required"
    for body in ({}, {"confirm": "delete"}, {"confirm": True}):
        r = requests.delete(url, json=body, headers=user.headers, timeout=30)
        assert r.status_code == 400, (body, r.text)
    assert account_repo.read_tombstone(firestore_db, user.uid) is None
    # four minutes ago is recent enough
    recent = {"Authorization": f"Bearer {_token_signed_in_at(user, 4 * 60)}"}
    r = requests.delete(url, json=CONFIRM, headers=recent, timeout=30)
    assert r.status_code == 202, r.text
    assert r.json()["stepsTotal"] == len(deletion.STEPS)
    wait_deleted(firestore_db, user.uid)


def test_after_deletion_nothing_of_the_user_is_left_anywhere(
    everything: Callable[..., Footprint],
    firestore_db: Any,
    local_stripe: LocalStripe,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fp = everything()
    uid = fp.user.uid
    before = scan_everything(firestore_db, local_stripe, uid, fp)
    assert len(before.found) > 20, before.found  # the scan sees a user who used every feature
    for store in ("firestore", "storage", "stripe", "auth"):
        assert any(f.startswith(store) for f in before.found), (store, before.found)

    first = fp.client.call("DELETE", "/account", json=CONFIRM)
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "running"
    done = wait_deleted(firestore_db, uid)
    assert done["step"] == len(deletion.STEPS)

    after = scan_everything(firestore_db, local_stripe, uid, fp)
    with capsys.disabled():
        print(f"\nbefore deletion: {len(before.found)} things of the user; after: {len(after.found)}")
        print("scanned:\n  " + "\n  ".join(after.looked))
    assert after.found == []
    assert {"stripe", "storage", "firestore", "mappings", "auth"} <= set(done["deleted"])
    # the Stripe subscription was canceled at once, the customer deleted
    sub = local_stripe.get(f"/v1/subscriptions/{fp.subscription_id}")
    assert sub.status_code == 404 or sub.json()["status"] == "canceled", sub.text
    # the old token is refused now
    assert fp.client.call("GET", "/account").status_code == 401


@pytest.mark.parametrize("step", deletion.STEPS)
def test_deletion_interrupted_at_each_step_and_resumed_ends_the_same(
    step: str, everything: Callable[..., Footprint], firestore_db: Any, local_stripe: LocalStripe
) -> None:
    """Steps before ``step`` ran; ``step`` did its work but crashed before recording it (so it
    runs again); then the job resumes to the end."""
    from aksio.auth import verify

    fp = everything(generate=False)
    uid = fp.user.uid
    caller = verify(f"Bearer {fp.user.id_token}")
    state, created = deletion.request(firestore_db, caller, "DELETE", enqueue=lambda _u, _s: True)
    assert created
    assert state["step"] == "stripe"
    index = deletion.STEPS.index(step)
    for earlier in range(index):
        assert deletion.run_step(firestore_db, uid, earlier, enqueue=lambda _u, _s: True) == "done"
    deletion.perform(firestore_db, uid, step)  # the crash: work done, progress not recorded
    assert account_repo.read_tombstone(firestore_db, uid)["step"] == index
    outcomes = deletion.resume(firestore_db, uid)
    assert outcomes == ["done"] * (len(deletion.STEPS) - index)
    assert deletion.resume(firestore_db, uid) == ["finished"]  # a late duplicate changes nothing
    scan = scan_everything(firestore_db, local_stripe, uid, fp)
    assert scan.found == []


def test_work_in_flight_after_deletion_writes_nothing(
    everything: Callable[..., Footprint],
    firestore_db: Any,
    local_stripe: LocalStripe,
    webhook: Webhook,
    gateway_url: str,
) -> None:
    from aksio.auth import verify

    fp = everything()
    uid = fp.user.uid
    caller = verify(f"Bearer {fp.user.id_token}")
    deletion.request(firestore_db, caller, "DELETE", enqueue=lambda _u, _s: True)
    cards = firestore_db.collection("users").document(uid).collection("cards")
    cards_before = len(list(cards.list_documents()))
    user_before = firestore_db.collection("users").document(uid).get().to_dict()

    # during the deletion (the tombstone is written, nothing deleted yet): a Stripe event for
    # the user's customer, and a generation step of their job, are acknowledged, write nothing
    event = _sub_event("customer.subscription.updated", fp, "past_due")
    assert webhook.ok(event)["outcome"] == "account_deleted"
    assert not firestore_db.collection("stripeEvents").document(event["id"]).get().exists
    step = json.dumps({"uid": uid, "jobId": fp.job_id, "step": 0})
    r = requests.post(f"{gateway_url}/run-generation", data=step, headers=task_headers(), timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["result"] == "account_deleted"
    assert len(list(cards.list_documents())) == cards_before
    # and a reminder run, at an instant past any reminder slot of the user
    from aksio.reminders import run as reminders

    def no_push(*_: Any) -> Any:
        raise AssertionError("a reminder was pushed to an account being deleted")

    for days in (0, 1, 2):
        at = datetime.now(UTC) + timedelta(days=days, hours=12)
        reminders.remind(firestore_db, uid, at, send=no_push, report=reminders.Report())
    assert firestore_db.collection("users").document(uid).get().to_dict() == user_before
    notes = firestore_db.collection("users").document(uid).collection("notifications")
    assert list(notes.list_documents()) == []

    assert deletion.resume(firestore_db, uid)[-1] == "done"
    # after it: the same deliveries again, and an upload event for the user's old object
    later = _sub_event("customer.subscription.deleted", fp, "canceled")
    assert webhook.ok(later)["outcome"] == "unknown_customer"
    r = requests.post(f"{gateway_url}/run-generation", data=step, headers=task_headers(), timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["result"] == "account_deleted"
    from tests.e2e.documents.conftest import post_event

    obj = {"bucket": _bucket(), "name": fp.object_name, "generation": "1", "size": "10", "contentType": "text/markdown"}
    obj |= {"id": f"{_bucket()}/{fp.object_name}/1", "timeCreated": "2026-01-01T00:00:00Z"}
    r = post_event(gateway_url, obj)
    assert r.status_code == 200, r.text
    scan = scan_everything(firestore_db, local_stripe, uid, fp)
    assert scan.found == []


def test_a_second_request_answers_the_same_deletion(gateway_url: str, user: User, firestore_db: Any) -> None:
    api = ApiClient(gateway_url, user, requests.Session())
    first = api.ok("DELETE", "/account", 202, json=CONFIRM)
    data = account_repo.read_tombstone(firestore_db, user.uid)
    assert data is not None
    # a repeat (the service itself: over HTTP the job's first step may already have revoked the
    # token) finds the same deletion and starts nothing new
    caller = AuthCaller(uid=user.uid, claims={"auth_time": int(time.time())})
    again, created = deletion.request(firestore_db, caller, "DELETE", enqueue=lambda uid, step: False)
    assert created is False
    assert again["requestedAt"] == first["requestedAt"]
    wait_deleted(firestore_db, user.uid)
    # the job disabled, then deleted, the Auth user: the same token is refused
    after = requests.delete(f"{gateway_url}/account", json=CONFIRM, headers=user.headers, timeout=30)
    assert after.status_code == 401, after.text


def _sub_event(kind: str, fp: Footprint, status: str) -> dict[str, Any]:
    now = int(time.time()) + 5
    sub = ev.subscription(fp.subscription_id, fp.customer_id, status, period_end=now + 30 * 86400, uid=fp.user.uid)
    return ev.event(kind, sub, now)


def _bucket() -> str:
    import os

    return os.environ["UPLOAD_BUCKET"]
