"""account: the signed-in user's profile and study settings.

Sensitive (it will also export and delete everything of the user), so every call
re-checks that the token was not revoked and that the user still exists.
"""

from __future__ import annotations

from aksio.clients import firestore_client
from aksio.http import Api, Ctx
from aksio.settings import Settings, SettingsPatch
from aksio.users import Profile, ProfilePatch, get_profile, update_profile

api = Api("account", summary="Profile and settings of the signed-in user", check_revoked=True)


@api.get("/", response=Profile)
def read(ctx: Ctx) -> Profile:
    """The profile, plan and settings (defaults until changed)."""
    assert ctx.caller is not None
    return get_profile(firestore_client(), ctx.caller)


@api.patch("/", body=ProfilePatch, response=Profile, errors=(400, 413, 415))
def patch(ctx: Ctx) -> Profile:
    """Change the display name and/or some settings; fields not sent keep their value."""
    assert ctx.caller is not None
    return update_profile(firestore_client(), ctx.caller, ctx.body)


@api.get("/settings", response=Settings)
def read_settings(ctx: Ctx) -> Settings:
    """Just the study settings."""
    assert ctx.caller is not None
    return get_profile(firestore_client(), ctx.caller).settings


@api.patch("/settings", body=SettingsPatch, response=Settings, errors=(400, 413, 415))
def patch_settings(ctx: Ctx) -> Settings:
    """Change some study settings; fields not sent keep their value."""
    assert ctx.caller is not None
    return update_profile(firestore_client(), ctx.caller, ProfilePatch(settings=ctx.body)).settings
