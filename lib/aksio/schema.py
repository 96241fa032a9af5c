"""Base models of the JSON API: camelCase on the wire, snake_case in Python.

Request models forbid unknown fields, so a typo in a client is a 400 naming the field
instead of a setting silently ignored.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """A response (or shared) model."""

    # defer_build: a model's validator is built on its first use, so a function pays only
    # for the models its requests use (cold start), not for every model it can name.
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True, defer_build=True
    )


class RequestModel(ApiModel):
    """A request body or query model."""

    model_config = ConfigDict(extra="forbid")


class ListQuery(RequestModel):
    """A cursor-paginated list's query: ``limit`` items after ``cursor``."""

    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, Field(max_length=500)] | None = None


class Check(ApiModel):
    ok: bool
    latency_ms: float


class Health(ApiModel):
    status: str  # "ok" | "degraded"
    checks: dict[str, Check]


class ErrorBody(ApiModel):
    code: str
    message: str
    details: object | None = None
    request_id: str | None = None


class ErrorResponse(ApiModel):
    """The one error shape: ``{"error": {"code", "message", "details"?, "requestId"}}``."""

    error: ErrorBody
