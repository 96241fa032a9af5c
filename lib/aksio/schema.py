"""Base models of the JSON API: camelCase on the wire, snake_case in Python.

Request models forbid unknown fields, so a typo in a client is a 400 naming the field
instead of a setting silently ignored.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """A response (or shared) model."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class RequestModel(ApiModel):
    """A request body or query model."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(ApiModel):
    code: str
    message: str
    details: object | None = None
    request_id: str | None = None


class ErrorResponse(ApiModel):
    """The one error shape: ``{"error": {"code", "message", "details"?, "requestId"}}``."""

    error: ErrorBody
