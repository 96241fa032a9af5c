"""account: the signed-in user's profile and study settings.

Sensitive (it will also export and delete everything of the user), so every call
re-checks that the token was not revoked and that the user still exists.
"""

from __future__ import annotations

from aksio import lazy
from aksio.clients import firestore_client
from aksio.http import Api, Ctx
from aksio.users import Json, get_profile, update_profile

# models are imported when a request needs one (cold start: reads need none)
models = lazy.models("aksio.account_api")
settings_models = lazy.models("aksio.settings")

api = Api("account", summary="Profile and settings of the signed-in user", check_revoked=True)


@api.get("/", response=models.Profile)
def read(ctx: Ctx) -> Json:
    """The profile, plan and settings (defaults until changed)."""
    assert ctx.caller is not None
    return get_profile(firestore_client(), ctx.caller)


@api.patch("/", body=models.ProfilePatch, response=models.Profile, errors=(400, 413, 415))
def patch(ctx: Ctx) -> Json:
    """Change the display name and/or some settings; fields not sent keep their value."""
    assert ctx.caller is not None
    return update_profile(firestore_client(), ctx.caller, ctx.body)


@api.get("/settings", response=settings_models.Settings)
def read_settings(ctx: Ctx) -> Json:
    """Just the study settings."""
    assert ctx.caller is not None
    settings: Json = get_profile(firestore_client(), ctx.caller)["settings"]
    return settings


@api.patch("/settings", body=settings_models.SettingsPatch, response=settings_models.Settings, errors=(400, 413, 415))
def patch_settings(ctx: Ctx) -> Json:
    """Change some study settings; fields not sent keep their value."""
    assert ctx.caller is not None
    patch = models.ProfilePatch(settings=ctx.body)
    settings: Json = update_profile(firestore_client(), ctx.caller, patch, settings_at=())["settings"]
    return settings
