"""Request and response models of ``account`` (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from aksio import settings as settings_mod
from aksio.schema import ApiModel, RequestModel


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
