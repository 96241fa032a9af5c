"""The user's profile document ``users/{uid}``: profile fields, settings, plan.

Reads never create the document; the first change does (in a transaction, so two
concurrent changes of different settings both land).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aksio import firestore as fs
from aksio import plans, prefs
from aksio.wire import compact, iso

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

    from aksio.account_api import ProfilePatch
    from aksio.auth import Caller


Json = dict[str, Any]


def profile_view(caller: Caller, data: dict[str, Any] | None) -> Json:
    """The profile in the API's form (:class:`aksio.account_api.Profile`), without pydantic."""
    data = data or {}
    return compact(
        {
            "uid": caller.uid,
            "email": caller.email,
            "displayName": data.get("displayName"),
            "plan": plans.current_plan(data).id,
            "settings": prefs.of_user(data).view(),
            "createdAt": iso(data.get("createdAt")),
            "updatedAt": iso(data.get("updatedAt")),
        }
    )


def get_profile(db: Client, caller: Caller) -> Json:
    return profile_view(caller, fs.read(fs.user_doc(db, caller.uid)))


def reminder_after_change(user: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """A change of settings takes effect the same day: the next reminder instant is computed
    anew from now (a slot that came due in the last 15 minutes still counts), keeping the
    study day already reminded. Only users who have reviewed (and so may have cards due)
    have one."""
    from datetime import timedelta

    from google.cloud import firestore

    from aksio.reminders.model import last_sent, next_slot, prefs_of

    if user.get("nextReminderAt") is None and not user.get("stats"):
        return {}
    slot = next_slot(fs.utcnow() - timedelta(minutes=15), prefs_of(prefs.from_stored(settings)), last_sent(user))
    return {"nextReminderAt": slot.at if slot is not None else firestore.DELETE_FIELD}


def update_profile(
    db: Client, caller: Caller, patch: ProfilePatch, *, settings_at: tuple[str, ...] = ("settings",)
) -> Json:
    """Apply ``patch`` atomically and return the new profile. Sending it twice is harmless.
    ``settings_at``: where the settings sit in the request body (for a 400's field names)."""
    from google.cloud import firestore

    from aksio import settings as settings_mod

    ref = fs.user_doc(db, caller.uid)

    def change(tx: firestore.Transaction) -> None:
        snap = ref.get(transaction=tx)
        data = fs.data_of(snap)
        current = settings_mod.from_stored(data.get("settings"))
        update: dict[str, Any] = {"updatedAt": firestore.SERVER_TIMESTAMP}
        if not snap.exists:
            update["createdAt"] = firestore.SERVER_TIMESTAMP
        if "display_name" in patch.model_fields_set:
            update["displayName"] = patch.display_name
        if patch.settings is not None:
            update["settings"] = settings_mod.apply(current, patch.settings, at=settings_at).to_stored()
            update |= reminder_after_change(data, update["settings"])
        tx.set(ref, update, merge=True)

    fs.run_transaction(db, change, what="profile update")
    return get_profile(db, caller)
