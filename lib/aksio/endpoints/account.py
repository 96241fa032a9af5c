"""account: the signed-in user's profile and study settings, usage, activity, and the
deletion of the account.

Sensitive, so every call re-checks that the token was not revoked and that the user still
exists; deleting also needs a recent sign-in (``auth_time``).
"""

from __future__ import annotations

from aksio import lazy, params
from aksio.account import activity
from aksio.account import service as account
from aksio.clients import firestore_client
from aksio.http import Api, Ctx, Result
from aksio.ids import path_id
from aksio.openapi import Link
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


@api.get("/usage", response=models.Usage)
def usage(ctx: Ctx) -> Json:
    """The plan, each limit, what is used in the current period and when it resets, and the
    subscription (status, period end, cancel at period end, grace end)."""
    return account.usage(firestore_client(), ctx.uid)


@api.get("/activity", query=models.ActivityQuery, fast_query=params.LIST, response=models.ActivityPage, errors=(400,))
def activity_log(ctx: Ctx) -> Json:
    """Security-relevant events of the account, newest first, ``limit`` at a time; each is
    kept a year."""
    return activity.page(firestore_client(), ctx.uid, ctx.query.cursor, ctx.query.limit)


@api.delete("/", body=models.DeleteAccount, response=models.Deletion, status=202, errors=(400, 413, 415, 503))
def delete(ctx: Ctx) -> Result:
    """Delete the account and everything of it (202; the job runs on, the answer says how
    far it is). Needs a sign-in within 5 minutes (else 401 ``reauthentication_required``) and
    ``{"confirm": "DELETE"}``. Asking again answers the same deletion."""
    from aksio.account import deletion

    assert ctx.caller is not None
    state, _ = deletion.request(firestore_client(), ctx.caller, ctx.body.confirm)
    return Result(state, status=202)


@api.post(
    "/exports",
    response=models.Export,
    status=202,
    errors=(409, 503),
    links=(Link("read", "account.export", {"export": "$response.body#/id"}),),
)
def start_export(ctx: Ctx) -> Result:
    """Export everything of the account as one ZIP (202; a job makes it, its progress shows
    in the export). One at a time: another while one is being made is a 409."""
    from aksio.account import export

    return Result(export.request(firestore_client(), ctx.uid), status=202)


@api.get("/exports", query=models.ExportListQuery, fast_query=params.LIST, response=models.ExportPage, errors=(400,))
def exports(ctx: Ctx) -> Json:
    """The account's exports, newest first."""
    from aksio.account import export

    return export.page(firestore_client(), ctx.uid, ctx.query.cursor, ctx.query.limit)


@api.get("/exports/<export>", response=models.Export, errors=(404,))
def export(ctx: Ctx) -> Json:
    """An export: status and progress; once made, a download URL valid 1 hour (the file is
    deleted 7 days after it was made)."""
    from aksio.account import export as exports_mod

    return exports_mod.get(firestore_client(), ctx.uid, path_id(ctx.params["export"], "export"))


@api.post(
    "/imports",
    body=models.NewImport,
    response=models.ImportCreated,
    status=201,
    errors=(400, 413, 415),
    links=(Link("start", "account.start_import", {"import": "$response.body#/import/id"}),),
)
def new_import(ctx: Ctx) -> Result:
    """Import cards from a text file (Quizlet export, Anki text export, CSV/TSV): the import
    and a signed URL (15 minutes) to PUT the file to; then start it."""
    from aksio.account import imports

    return Result(imports.create(firestore_client(), ctx.uid, ctx.body), status=201)


@api.post("/imports/<import>/start", response=models.Import, status=202, errors=(404, 409, 503))
def start_import(ctx: Ctx) -> Result:
    """Start the import once its file is uploaded (409 before); again: the same import."""
    from aksio.account import imports

    return Result(imports.start(firestore_client(), ctx.uid, path_id(ctx.params["import"], "import")), status=202)


@api.get("/imports/<import>", response=models.Import, errors=(404,))
def read_import(ctx: Ctx) -> Json:
    """An import: status, counts once done, the reason (with the bad lines) if it failed."""
    from aksio.account import imports

    return imports.get(firestore_client(), ctx.uid, path_id(ctx.params["import"], "import"))


@api.post(
    "/exports/deck",
    body=models.DeckExportRequest,
    response=models.Export,
    status=202,
    errors=(400, 404, 409, 413, 415, 503),
    links=(Link("read", "account.export", {"export": "$response.body#/id"}),),
)
def start_deck_export(ctx: Ctx) -> Result:
    """Export one deck as an Anki package (``apkg``) or as Anki's text format (``csv``); the
    file is made by the same job as a full export, and read the same way."""
    from aksio.account import export as exports_mod

    body = ctx.body
    return Result(exports_mod.request_deck(firestore_client(), ctx.uid, body.deck_id, body.format), status=202)
