"""Devices (push targets) and the in-app inbox of the signed-in user.

Register: at most :data:`~aksio.reminders.api.MAX_DEVICES` per user; the same token again
updates its device (idempotent, 200); a token another user holds moves to this user (one
transaction writes both sides and the index). Answers are in the API's JSON form.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from aksio import errors
from aksio import firestore as fs
from aksio.account import activity
from aksio.reminders import repository as repo
from aksio.wire import compact, iso

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

    from aksio.reminders import api

Json = dict[str, Any]
MAX_DEVICES = 10


def device_id(token: str) -> str:
    """A device's id: derived from its token, so registering a token again finds its device."""
    return "d" + hashlib.sha256(token.encode()).hexdigest()[:31]


def device_view(device: str, data: dict[str, Any]) -> Json:
    return compact(
        {
            "id": device,
            "platform": data.get("platform", ""),
            "label": data.get("label"),
            "createdAt": iso(data.get("createdAt")),
            "updatedAt": iso(data.get("updatedAt")),
        }
    )


def register_device(db: Client, uid: str, body: api.NewDevice) -> tuple[Json, bool]:
    """The device and whether it is new to this user."""
    did = device_id(body.token)
    now = fs.utcnow()

    def run(tx: repo.DevicesTx) -> tuple[Json, bool]:
        mine = tx.devices()
        owner = tx.owner(did)
        current = mine.get(did)
        if current is None and len(mine) >= MAX_DEVICES:
            raise errors.Conflict(
                f"At most {MAX_DEVICES} devices per account; remove one first.", code="too_many_devices"
            )
        if owner is not None and owner != uid:
            tx.take_from(owner, did)  # a token belongs to one user at a time
        doc = {
            "token": body.token,
            "platform": body.platform,
            "label": body.label,
            "createdAt": (current or {}).get("createdAt") or now,
            "updatedAt": now,
        }
        tx.put(did, doc)
        if current is None:
            details = {"deviceId": did, "platform": body.platform}
            activity.record_in(tx.tx, db, uid, "device_added", f"{did}/{now.isoformat()}", details=details)
        return device_view(did, doc), current is None

    result: tuple[Json, bool] = repo.in_devices_tx(db, uid, run, what="register device")
    return result


def list_devices(db: Client, uid: str) -> Json:
    return {"devices": [device_view(d, data) for d, data in repo.list_devices(db, uid)]}


def remove_device(db: Client, uid: str, device: str) -> Json:
    def run(tx: repo.DevicesTx) -> None:
        if device not in tx.devices():
            raise errors.NotFound(f"No device {device}.", code="device_not_found")
        tx.remove(device)
        key = f"{device}/{fs.utcnow().isoformat()}"
        activity.record_in(tx.tx, db, uid, "device_removed", key, details={"deviceId": device})

    repo.in_devices_tx(db, uid, run, what="remove device")
    return {"id": device, "deleted": True}


def notification_view(notification: str, data: dict[str, Any]) -> Json:
    return compact(
        {
            "id": notification,
            "kind": data.get("kind", "reminder"),
            "title": data.get("title", ""),
            "body": data.get("body", ""),
            "data": data.get("data"),
            "read": bool(data.get("read")),
            "createdAt": iso(data.get("createdAt")),
            "readAt": iso(data.get("readAt")),
        }
    )


def inbox(db: Client, uid: str, query: Any) -> Json:
    snaps, next_cursor = repo.page_notifications(db, uid, query.cursor, query.limit)
    return compact(
        {"notifications": [notification_view(s.id, fs.data_of(s)) for s in snaps], "nextCursor": next_cursor}
    )


def unread(db: Client, uid: str) -> Json:
    return {"unread": repo.unread_count(db, uid)}


def mark_read(db: Client, uid: str, notification: str) -> Json:
    data = repo.mark_read(db, uid, notification, fs.utcnow())
    if data is None:
        raise errors.NotFound(f"No notification {notification}.", code="notification_not_found")
    return notification_view(notification, data)


def delete_user_data(db: Client, uid: str) -> int:
    """Account deletion: devices, inbox and the token index entries of the user."""
    return repo.delete_user_reminders(db, uid)


def forget_user(db: Client, uid: str) -> int:
    """Account deletion: the global device-token index entries naming the user."""
    return repo.forget_tokens(db, uid)
