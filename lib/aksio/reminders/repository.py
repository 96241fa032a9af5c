"""The reminders' repository: the only code that reads and writes a user's ``devices`` and
``notifications``, and the top-level ``deviceTokens`` index.

- ``users/{uid}/devices/{deviceId}``: a push target (FCM registration token, platform,
  label). ``deviceId`` is derived from the token, so registering a token again finds it.
- ``deviceTokens/{deviceId}`` → ``{uid}``: which user holds a token. A token belongs to one
  user at a time; registering it under another user moves it (both written in one
  transaction).
- ``users/{uid}/notifications/{id}``: the in-app inbox. ``expireAt`` is for a Firestore
  TTL policy (terraform), so entries expire without a sweep.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aksio import firestore as fs
from aksio import paging
from aksio.account import service as account

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

DEVICES, NOTIFICATIONS, TOKENS = "devices", "notifications", "deviceTokens"


def devices_col(db: Client, uid: str) -> Any:
    return fs.user_col(db, uid, DEVICES)


def notifications_col(db: Client, uid: str) -> Any:
    return fs.user_col(db, uid, NOTIFICATIONS)


def token_ref(db: Client, device_id: str) -> Any:
    return db.collection(TOKENS).document(device_id)


class DevicesTx:
    """A user's devices, and the token index, inside one transaction (reads before writes)."""

    def __init__(self, db: Client, uid: str, tx: Any) -> None:
        self.db, self.uid, self.tx = db, uid, tx

    def devices(self) -> dict[str, dict[str, Any]]:
        return {s.id: fs.data_of(s) for s in devices_col(self.db, self.uid).stream(transaction=self.tx)}

    def owner(self, device_id: str) -> str | None:
        data = fs.read(token_ref(self.db, device_id), self.tx)
        return str(data["uid"]) if data and data.get("uid") else None

    def put(self, device_id: str, doc: dict[str, Any]) -> None:
        self.tx.set(devices_col(self.db, self.uid).document(device_id), doc)
        self.tx.set(token_ref(self.db, device_id), {"uid": self.uid, "updatedAt": doc["updatedAt"]})

    def take_from(self, other_uid: str, device_id: str) -> None:
        self.tx.delete(devices_col(self.db, other_uid).document(device_id))

    def remove(self, device_id: str) -> None:
        self.tx.delete(devices_col(self.db, self.uid).document(device_id))
        self.tx.delete(token_ref(self.db, device_id))


def in_devices_tx(db: Client, uid: str, fn: Any, *, what: str) -> Any:
    return fs.run_transaction(db, lambda tx: fn(DevicesTx(db, uid, tx)), what=what)


def list_devices(db: Client, uid: str) -> list[tuple[str, dict[str, Any]]]:
    return sorted(
        ((s.id, fs.data_of(s)) for s in devices_col(db, uid).stream()), key=lambda d: str(d[1].get("createdAt"))
    )


def page_notifications(db: Client, uid: str, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    return paging.page(paging.newest_first(notifications_col(db, uid)), "createdAt", cursor, limit)


def unread_count(db: Client, uid: str) -> int:
    return fs.count(notifications_col(db, uid).where(filter=fs.where("read", "==", False)))


def mark_read(db: Client, uid: str, notification_id: str, when: Any) -> dict[str, Any] | None:
    """Mark one notification read (once: the first read time is kept); None when there is none."""
    ref = notifications_col(db, uid).document(notification_id)

    def run(tx: Any) -> dict[str, Any] | None:
        data = fs.read(ref, tx)
        if data is None:
            return None
        if not data.get("read"):
            data = data | {"read": True, "readAt": when}
            tx.update(ref, {"read": True, "readAt": when})
        return data

    result: dict[str, Any] | None = fs.run_transaction(db, run, what="mark read")
    return result


def remove_device(db: Client, uid: str, device_id: str) -> None:
    """Remove a device FCM says is gone (and its token's index entry)."""
    in_devices_tx(db, uid, lambda tx: tx.remove(device_id), what="remove device")


# -- the reminders run: users/{uid}.nextReminderAt and .lastReminderDay -----------------------


def due_users(db: Client, now: Any, limit: int, after: tuple[Any, str] | None) -> list[tuple[str, Any]]:
    """Users whose ``nextReminderAt`` has come, earliest first, after ``(at, uid)``: one
    indexed range query (it reads the candidates, never the other users)."""
    query = (
        db.collection(fs.USERS)
        .where(filter=fs.where("nextReminderAt", "<=", now))
        .order_by("nextReminderAt")
        .order_by("__name__")
        .select(["nextReminderAt"])
    )
    if after is not None:
        query = query.start_after([after[0], after[1]])
    return [(s.id, fs.data_of(s).get("nextReminderAt")) for s in query.limit(limit).stream()]


def set_next_reminder(db: Client, uid: str, at: Any, *, expect: Any) -> None:
    """Move ``nextReminderAt`` to ``at`` (None: no reminder), unless it changed meanwhile."""
    ref = fs.user_doc(db, uid)

    def run(tx: Any) -> None:
        user = fs.read(ref, tx)
        if user is None or account.deleted_in(tx, db, uid) or user.get("nextReminderAt") != expect:
            return
        tx.update(ref, fs.stored({"nextReminderAt": at if at is not None else fs.DELETE}))

    fs.run_transaction(db, run, what="move reminder")


def claim_day(db: Client, uid: str, day: str, next_at: Any, note: dict[str, Any] | None) -> bool:
    """Claim study day ``day``'s reminder for this run: False when it was claimed already.
    With ``note``, the in-app notification is created in the same transaction."""
    ref = fs.user_doc(db, uid)

    def run(tx: Any) -> bool:
        user = fs.read(ref, tx)
        if user is None or account.deleted_in(tx, db, uid):  # gone, or being deleted: nothing to write
            return False
        if user.get("lastReminderDay") == day:
            return False
        changes = {"lastReminderDay": day, "nextReminderAt": next_at if next_at is not None else fs.DELETE}
        tx.update(ref, fs.stored(changes))
        if note is not None:
            doc = {k: v for k, v in note.items() if k != "id"}
            tx.create(notifications_col(db, uid).document(note["id"]), doc)
        return True

    claimed: bool = fs.run_transaction(db, run, what="claim reminder")
    return claimed


def set_push_pending(db: Client, uid: str, notification_id: str, device_ids: list[str]) -> None:
    """Leave pushes to these devices for a later run."""
    from google.cloud import firestore

    notifications_col(db, uid).document(notification_id).update(
        {"pushPending": True, "pendingDevices": firestore.ArrayUnion(device_ids)}
    )


def pending_pushes(db: Client, limit: int) -> list[tuple[str, str, dict[str, Any]]]:
    """Notifications with pushes left pending, of any user: ``(uid, notification id, fields)``
    (a collection-group query on ``pushPending``, indexed in terraform)."""
    query = db.collection_group(NOTIFICATIONS).where(filter=fs.where("pushPending", "==", True)).limit(limit)
    return [(s.reference.parent.parent.id, s.id, fs.data_of(s)) for s in query.stream()]


def take_pending(db: Client, uid: str, notification_id: str, device_id: str) -> bool:
    """Take one device off a notification's pending pushes; False when another run took it."""
    ref = notifications_col(db, uid).document(notification_id)

    def run(tx: Any) -> bool:
        data = fs.read(ref, tx) or {}
        pending = [d for d in data.get("pendingDevices") or [] if d != device_id]
        if len(pending) == len(data.get("pendingDevices") or []):
            return False
        tx.update(ref, {"pendingDevices": pending, "pushPending": bool(pending)})
        return True

    taken: bool = fs.run_transaction(db, run, what="take pending push")
    return taken


# -- account deletion -------------------------------------------------------------------------


def delete_user_reminders(db: Client, uid: str) -> int:
    """The user's devices and inbox, and every token-index entry naming the user."""
    deleted = fs.delete_collection(db, devices_col(db, uid)) + fs.delete_collection(db, notifications_col(db, uid))
    return deleted + forget_tokens(db, uid)


def forget_tokens(db: Client, uid: str) -> int:
    return fs.delete_matching(db, db.collection(TOKENS).where(filter=fs.where("uid", "==", uid)))
