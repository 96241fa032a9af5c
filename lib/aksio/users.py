"""The user's profile document ``users/{uid}``: profile fields, settings, plan.

Reads never create the document; the first change does (in a transaction, so two
concurrent changes of different settings both land).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from aksio import firestore as fs
from aksio import plans
from aksio import settings as settings_mod
from aksio.schema import ApiModel, RequestModel

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

    from aksio.auth import Caller


class Profile(ApiModel):
    uid: str
    email: str | None = None
    display_name: str | None = None
    plan: str = "free"
    settings: settings_mod.Settings
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ProfilePatch(RequestModel):
    display_name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    settings: settings_mod.SettingsPatch | None = None


def _profile(caller: Caller, data: dict[str, Any] | None) -> Profile:
    data = data or {}
    return Profile(
        uid=caller.uid,
        email=caller.email,
        display_name=data.get("displayName"),
        plan=plans.current_plan(data).id,
        settings=settings_mod.from_stored(data.get("settings")),
        created_at=data.get("createdAt"),
        updated_at=data.get("updatedAt"),
    )


def get_profile(db: Client, caller: Caller) -> Profile:
    return _profile(caller, fs.read(fs.user_doc(db, caller.uid)))


def update_profile(db: Client, caller: Caller, patch: ProfilePatch) -> Profile:
    """Apply ``patch`` atomically and return the new profile. Sending it twice is harmless."""
    from google.cloud import firestore

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
            update["settings"] = settings_mod.apply(current, patch.settings).to_stored()
        tx.set(ref, update, merge=True)

    fs.run_transaction(db, change, what="profile update")
    return get_profile(db, caller)
