"""Request and response models of ``notifications`` (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from aksio.schema import ApiModel, ListQuery, RequestModel

# An FCM registration token: URL-safe characters and ':' (at most 4 KiB).
Token = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=r"^[A-Za-z0-9_:\-]+$")]


class NewDevice(RequestModel):
    token: Token
    platform: Literal["android", "ios", "web"]
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None


class Device(ApiModel):
    id: str
    platform: str
    label: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class DeviceList(ApiModel):
    devices: list[Device]


class DeviceRemoved(ApiModel):
    id: str
    deleted: bool = True


class Notification(ApiModel):
    id: str
    kind: str
    title: str
    body: str
    data: dict[str, Any] | None = None
    read: bool = False
    created_at: datetime | None = None
    read_at: datetime | None = None


class NotificationPage(ApiModel):
    notifications: list[Notification]
    next_cursor: str | None = None


class InboxQuery(ListQuery):
    pass


class Unread(ApiModel):
    unread: int = Field(ge=0)
