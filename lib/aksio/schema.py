"""Base models of the JSON API: camelCase on the wire, snake_case in Python.

Request models forbid unknown fields, so a typo in a client is a 400 naming the field
instead of a setting silently ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from aksio import errors

T = TypeVar("T")


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


def _not_null(value: T | None) -> T:
    if value is None:
        raise ValueError("may not be null (leave the field out to keep its value)")
    return value


def _not_nullable(schema: dict[str, Any]) -> None:
    """The schema of ``T | None`` as that of ``T`` (no null, no default)."""
    schema.pop("default", None)
    kept = [option for option in schema.pop("anyOf", []) if option != {"type": "null"}]
    if len(kept) == 1:
        schema.update(kept[0])
    elif kept:
        schema["anyOf"] = kept


# A field of a partial change that may be left out but, when sent, not as null: its schema
# is the type alone (no null, no default), and an explicit null is a 400 naming the field
# (validated as ``T | None``, so a wrong value's error names the field as before).
NotNull = Annotated[T | None, AfterValidator(_not_null), Field(json_schema_extra=_not_nullable)]


# Whitespace spelled out, so that every regex engine (pydantic's, Python's, a client's, a
# fuzzer's) reads a pattern alike: Unicode's White_Space (pydantic's ``\s`` and stripping),
# and with U+001C-U+001F, which Python's str.strip() strips too.
WHITE_SPACE = r"\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
SPACE = r"\x1c-\x1f" + WHITE_SPACE
# Schema-only keywords, for what validation checks in code: ``NON_BLANK`` (a character other
# than whitespace: what is left once stripped is not empty) and ``max_bytes`` (``maxLength``
# counts characters; the limit is in bytes of UTF-8).
NON_BLANK = f"[^{SPACE}]"


def max_bytes(limit: int) -> dict[str, Any]:
    return {"x-maxBytes": limit, "description": f"At most {limit} bytes in UTF-8."}


def invalid_input(exc: ValidationError, where: str, *, prefix: tuple[str, ...] = ()) -> errors.Invalid:
    """A validation failure as the 400 the API answers: ``details`` names each offending field
    (dotted, from ``prefix``) with where it was (``body``, ``query``), the message and the type."""
    details = [
        {
            "field": ".".join(str(p) for p in (*prefix, *err["loc"])) or where,
            "in": where,
            "message": err["msg"],
            "type": err["type"],
        }
        for err in exc.errors(include_url=False, include_input=False)
    ]
    fields = ", ".join(sorted({d["field"] for d in details}))
    return errors.Invalid(f"Invalid {where}: {fields}.", details=details)


CURSOR = "The previous page's nextCursor, as it came (any other value is a 400)"


class ListQuery(RequestModel):
    """A cursor-paginated list's query: ``limit`` items after ``cursor``."""

    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, Field(max_length=500, description=CURSOR)] | None = None


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
