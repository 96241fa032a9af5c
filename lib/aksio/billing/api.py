"""Request and response models of the billing functions (camelCase on the wire)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from aksio.plans import PLANS
from aksio.schema import ApiModel, RequestModel

Url = Annotated[str, Field(min_length=1, max_length=2048, description="On an allowed origin of the web app (else 400)")]


class CheckoutRequest(RequestModel):
    plan: Annotated[
        str,
        Field(min_length=1, max_length=40, json_schema_extra={"enum": [p.id for p in PLANS.values() if p.price_env]}),
    ] = "pro"
    success_url: Url | None = None
    cancel_url: Url | None = None


class CheckoutSession(ApiModel):
    id: str
    url: str


class PortalRequest(RequestModel):
    return_url: Url | None = None


class PortalSession(ApiModel):
    id: str
    url: str


class WebhookAck(ApiModel):
    received: bool = True
    event_id: str
    type: str
    outcome: str
    plan: str | None = None
