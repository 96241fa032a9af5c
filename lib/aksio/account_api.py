"""Request and response models of ``account`` (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from aksio import settings as settings_mod
from aksio.schema import ApiModel, ListQuery, RequestModel


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


# -- usage -----------------------------------------------------------------------------------


class Quota(ApiModel):
    quota: str = Field(description="The meter (generations, pages, tutorMessages, ...)")
    what: str
    period: Literal["month", "day"]
    period_key: str = Field(description="The UTC month (2026-11) or day (2026-11-23) the counts are of")
    limit: int = Field(ge=0)
    used: int = Field(ge=0)
    remaining: int = Field(ge=0)
    resets_at: datetime


class Subscription(ApiModel):
    status: str | None = None
    plan: str | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool | None = None
    grace_ends_at: datetime | None = Field(default=None, description="While past_due: when the paid plan stops")
    in_grace: bool | None = None


class Usage(ApiModel):
    plan: str
    plan_name: str
    limits: dict[str, int] = Field(description="Every limit of the plan in force now")
    quotas: list[Quota]
    subscription: Subscription
    at: datetime


# -- activity --------------------------------------------------------------------------------


class ActivityEntry(ApiModel):
    id: str
    kind: str = Field(
        description="export_requested, deletion_requested, device_added, device_removed, plan_changed, import_done"
    )
    at: datetime
    details: dict[str, Any] | None = None
    expires_at: datetime | None = None


class ActivityPage(ApiModel):
    activity: list[ActivityEntry]
    next_cursor: str | None = None


class ActivityQuery(ListQuery):
    pass


# -- deletion --------------------------------------------------------------------------------


class DeleteAccount(RequestModel):
    confirm: Literal["DELETE"] = Field(description="Deletes the account and everything of it; there is no undo")


class Deletion(ApiModel):
    status: Literal["running", "done"]
    step: str | None = None
    steps_done: int = Field(ge=0)
    steps_total: int = Field(ge=1)
    requested_at: datetime | None = None
    completed_at: datetime | None = None


# -- export ----------------------------------------------------------------------------------


class ExportProgress(ApiModel):
    stage: str = Field(description="queued, data, files, decks, done")
    done: int = Field(ge=0)
    total: int = Field(ge=0)


class Export(ApiModel):
    id: str
    status: Literal["queued", "running", "succeeded", "failed", "expired"]
    deck_id: str | None = Field(default=None, description="Set for the export of one deck")
    format: Literal["zip", "apkg", "csv"] = "zip"
    progress: ExportProgress | None = None
    counts: dict[str, int] | None = Field(default=None, description="Records of each kind in the ZIP")
    size_bytes: int | None = Field(default=None, ge=0)
    error: str | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    file_expires_at: datetime | None = Field(default=None, description="The ZIP is deleted then (7 days)")
    download_url: str | None = Field(default=None, description="A signed URL of the ZIP, valid 1 hour")
    download_expires_at: datetime | None = None


class DeckExportRequest(RequestModel):
    deck_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    format: Literal["apkg", "csv"] = "apkg"


class ExportPage(ApiModel):
    exports: list[Export]
    next_cursor: str | None = None


class ExportListQuery(ListQuery):
    pass


# -- import ----------------------------------------------------------------------------------


class NewImport(RequestModel):
    filename: Annotated[str, Field(min_length=1, max_length=200)]
    content_type: Literal[
        "text/csv", "text/tab-separated-values", "text/plain", "application/zip", "application/octet-stream"
    ] = "text/plain"
    size_bytes: Annotated[int, Field(ge=1, le=200 * 1024 * 1024)]
    deck_name: Annotated[str, Field(min_length=1, max_length=100)] | None = None


class ImportResult(ApiModel):
    notes: int = Field(ge=0)
    cards_created: int = Field(ge=0)
    cards_existing: int = Field(ge=0)
    media_skipped: int | None = Field(default=None, ge=0, description="Media files of a package, not imported")
    notes_skipped: int | None = Field(default=None, ge=0, description="Notes of a package without a front or back")


class ImportProgress(ApiModel):
    done: int = Field(ge=0, description="Cards written")
    total: int = Field(ge=0, description="Cards to write")


class ImportFailure(ApiModel):
    code: str
    message: str
    details: Any = None


class Import(ApiModel):
    id: str
    status: Literal["awaiting_upload", "queued", "running", "succeeded", "failed"]
    filename: str | None = None
    deck_id: str | None = None
    deck_name: str | None = None
    progress: ImportProgress | None = Field(default=None, description="Updated at most once a second while it runs")
    result: ImportResult | None = None
    error: ImportFailure | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None


class ImportUpload(ApiModel):
    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime


class ImportCreated(ApiModel):
    import_: Import = Field(alias="import")
    upload: ImportUpload
