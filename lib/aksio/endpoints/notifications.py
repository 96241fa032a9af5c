"""notifications: push devices (FCM registration tokens) and the in-app inbox."""

from __future__ import annotations

from aksio import lazy, params
from aksio.clients import firestore_client
from aksio.http import Api, Ctx, Result
from aksio.ids import path_id
from aksio.openapi import Link
from aksio.reminders import service
from aksio.reminders.service import Json

# models are imported when a request needs one (cold start: reads need none)
models = lazy.models("aksio.reminders.api")

api = Api("notifications", summary="Push devices and the in-app inbox of the signed-in user")


@api.post(
    "/devices",
    body=models.NewDevice,
    response=models.Device,
    status=201,
    replay_status=200,
    errors=(400, 409, 413, 415),
    links=(Link("remove", "notifications.remove", {"device": "$response.body#/id"}),),
)
def register(ctx: Ctx) -> Result:
    """Register a push target (201); the same token again updates it (200). At most 10 per
    user (409); a token registered by another user moves to this one."""
    device, created = service.register_device(firestore_client(), ctx.uid, ctx.body)
    return Result(device, status=201 if created else 200)


@api.get("/devices", response=models.DeviceList)
def devices(ctx: Ctx) -> Json:
    """The user's push targets (tokens are never returned)."""
    return service.list_devices(firestore_client(), ctx.uid)


@api.delete("/devices/<device>", response=models.DeviceRemoved, errors=(404,))
def remove(ctx: Ctx) -> Json:
    """Remove a push target."""
    return service.remove_device(firestore_client(), ctx.uid, path_id(ctx.params["device"], "device"))


@api.get("/", query=models.InboxQuery, fast_query=params.LIST, response=models.NotificationPage, errors=(400,))
def inbox(ctx: Ctx) -> Json:
    """The inbox, newest first, ``limit`` at a time; entries expire after 30 days."""
    return service.inbox(firestore_client(), ctx.uid, ctx.query)


@api.get("/unread", response=models.Unread)
def unread(ctx: Ctx) -> Json:
    """How many notifications are unread."""
    return service.unread(firestore_client(), ctx.uid)


@api.post("/<notification>/read", response=models.Notification, errors=(404,))
def read(ctx: Ctx) -> Json:
    """Mark a notification read (again: no change)."""
    return service.mark_read(firestore_client(), ctx.uid, path_id(ctx.params["notification"], "notification"))
