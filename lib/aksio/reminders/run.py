"""The reminders run (``send-reminders``, every 15 minutes from Cloud Scheduler).

Cost follows who is due, not how many users exist: the candidates are the users whose
``nextReminderAt`` has come, found by one indexed range query, a page at a time, until the
run nears its deadline (the rest is the next run's).

For each candidate, exactly once per study day, whatever runs overlap or repeat:

1. its slot: the latest reminder slot that has come and was not sent (from a day back, so a
   run that was down still reminds, once). None come yet (the settings changed): only
   ``nextReminderAt`` moves.
2. the cards due by the end of that study day (:func:`aksio.study.service.due_summary`).
3. the claim, one transaction: ``lastReminderDay`` is that day (a second claim of the same
   day finds it and stops), ``nextReminderAt`` moves to the next slot, and, with cards due,
   the in-app notification ``r{day}`` is created (its id is the day: one per day).
4. only the claimant pushes, to each device once; a dead token's device is removed. A push
   FCM keeps refusing for now (429, 5xx) is left on the notification (``pendingDevices``),
   and the next runs try it again first (:func:`retry_pending`), for up to 12 hours.

A failure for one user is logged and the run goes on with the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aksio import firestore as fs
from aksio import log, prefs
from aksio.reminders import fcm
from aksio.reminders import repository as repo
from aksio.reminders.model import Slot, last_sent, message, next_slot, prefs_of

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

_log = log.get_logger("aksio.reminders")
BATCH = 100
LOOKBACK = timedelta(days=1)  # a slot missed by up to a day (runs down, late) is still sent
TTL = timedelta(days=30)
PENDING_FOR = timedelta(hours=12)  # a reminder pushed later than this is no reminder any more
Send = Callable[..., fcm.Outcome]


@dataclass
class Report:
    candidates: int = 0
    reminded: int = 0
    nothing_due: int = 0
    moved: int = 0
    duplicates: int = 0
    failed: int = 0
    pushes: dict[str, int] = field(default_factory=dict)
    complete: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "candidates": self.candidates,
            "reminded": self.reminded,
            "nothingDue": self.nothing_due,
            "moved": self.moved,
            "duplicates": self.duplicates,
            "failed": self.failed,
            "pushes": dict(self.pushes),
            "complete": self.complete,
        }


def run(db: Client, now: datetime, *, stop_at: float, send: Send = fcm.send) -> Report:
    """Remind every user whose reminder has come by ``now``; stops before ``stop_at``
    (``time.monotonic()``) and says whether it got through them all."""
    report = Report()
    retry_pending(db, now, stop_at=stop_at, send=send, report=report)
    after: tuple[datetime, str] | None = None
    while True:
        if time.monotonic() >= stop_at:
            report.complete = False
            break
        page = repo.due_users(db, now, BATCH, after)
        for uid, at in page:
            after = (at, uid)
            if time.monotonic() >= stop_at:
                report.complete = False
                return report
            report.candidates += 1
            try:
                outcome = remind(db, uid, now, send=send, report=report)
            except Exception:  # one user's failure must not stop the others
                _log.exception("reminder failed for a user")
                report.failed += 1
                continue
            setattr(report, outcome, getattr(report, outcome) + 1)
        if len(page) < BATCH:
            break
    return report


def remind(db: Client, uid: str, now: datetime, *, send: Send, report: Report) -> str:
    """One user's reminder; returns what happened (a :class:`Report` counter's name)."""
    user = fs.read_user(db, uid)
    reminder_prefs = prefs_of(prefs.of_user(user))
    last = last_sent(user)
    slot = latest_slot(now, reminder_prefs, last)
    if slot is None or slot.at > now:
        repo.set_next_reminder(db, uid, slot.at if slot is not None else None, expect=user.get("nextReminderAt"))
        return "moved"
    from aksio.study import service as study

    due, deck, deck_due = study.due_summary(db, uid, slot.due_by)
    following = next_slot(slot.at + timedelta(microseconds=1), reminder_prefs, slot.day)
    note = _notification(slot, due, deck, deck_due, now) if due else None
    claimed = repo.claim_day(db, uid, slot.key, following.at if following else None, note)
    if not claimed:
        return "duplicates"
    if note is None:
        return "nothing_due"
    _push(db, uid, note, send, report)
    return "reminded"


def latest_slot(now: datetime, reminder_prefs: Any, last: Any) -> Slot | None:
    """The slot to act on at ``now``: the latest one that has come and was not sent (runs that
    were down for a day remind once, for today), or else the next one."""
    slot = next_slot(now - LOOKBACK, reminder_prefs, last)
    while slot is not None and slot.at <= now:
        following = next_slot(slot.at + timedelta(microseconds=1), reminder_prefs, slot.day)
        if following is None or following.at > now:
            break
        slot = following
    return slot


def retry_pending(db: Client, now: datetime, *, stop_at: float, send: Send, report: Report) -> None:
    """Pushes an earlier run left pending (FCM refused them for now) are tried once more, each
    device taken off the pending list in a transaction before its send (never twice); a
    reminder older than :data:`PENDING_FOR` is given up."""
    for uid, note_id, note in repo.pending_pushes(db, BATCH):
        if time.monotonic() >= stop_at:
            return
        created = note.get("createdAt")
        stale = isinstance(created, datetime) and now - created > PENDING_FOR
        devices = dict(repo.list_devices(db, uid))
        for device_id in list(note.get("pendingDevices") or []):
            if not repo.take_pending(db, uid, note_id, device_id) or stale or device_id not in devices:
                continue
            token = str(devices[device_id].get("token") or "")
            data = {"kind": "reminder", **{k: str(v) for k, v in (note.get("data") or {}).items()}}
            outcome = send(token, str(note.get("title", "")), str(note.get("body", "")), data)
            report.pushes[outcome.result] = report.pushes.get(outcome.result, 0) + 1
            if outcome.result == "gone":
                repo.remove_device(db, uid, device_id)
            elif outcome.result == "retry":
                repo.set_push_pending(db, uid, note_id, [device_id])


def _notification(slot: Slot, due: int, deck: str | None, deck_due: int, now: datetime) -> dict[str, Any]:
    title, body = message(due, deck, deck_due)
    return {
        "id": f"r{slot.key}",
        "kind": "reminder",
        "title": title,
        "body": body,
        "data": {"day": slot.key, "due": str(due)},
        "read": False,
        "createdAt": now,
        "expireAt": now + TTL,
    }


def _push(db: Client, uid: str, note: dict[str, Any], send: Send, report: Report) -> None:
    pending = []
    for device_id, device in repo.list_devices(db, uid):
        token = str(device.get("token") or "")
        if not token:
            continue
        outcome = send(token, note["title"], note["body"], {"kind": "reminder", **note["data"]})
        report.pushes[outcome.result] = report.pushes.get(outcome.result, 0) + 1
        if outcome.result == "gone":
            repo.remove_device(db, uid, device_id)
        elif outcome.result == "retry":
            pending.append(device_id)
    if pending:
        repo.set_push_pending(db, uid, note["id"], pending)
