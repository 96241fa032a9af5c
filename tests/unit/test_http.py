"""The shared request pipeline, driven with real WSGI requests and no network."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Request
from pydantic import Field
from werkzeug.test import EnvironBuilder

from aksio import errors
from aksio.config import get_config
from aksio.http import Api, Ctx, Result
from aksio.schema import ApiModel, RequestModel


class Echo(RequestModel):
    name: str = Field(min_length=1, max_length=5)
    count: int = 1


class Page(RequestModel):
    limit: int = Field(default=10, ge=1, le=50)


class Out(ApiModel):
    full_name: str
    count: int


api = Api("echo", auth=False)


@api.post("/", body=Echo, response=Out, status=201)
def create(ctx: Ctx) -> Out:
    return Out(full_name=ctx.body.name, count=ctx.body.count)


@api.get("/items/<item_id>", query=Page)
def item(ctx: Ctx) -> dict[str, Any]:
    return {"id": ctx.params["item_id"], "limit": ctx.query.limit}


@api.get("/boom")
def boom(ctx: Ctx) -> None:
    raise RuntimeError("secret internals")


@api.get("/conflict")
def conflict(ctx: Ctx) -> None:
    raise errors.Conflict("already there")


@api.delete("/items/<item_id>", status=204)
def remove(ctx: Ctx) -> None:
    return None


@api.get("/custom")
def custom(ctx: Ctx) -> Result:
    return Result({"ok": True}, status=202, headers={"X-Extra": "1"})


def call(method: str, path: str, **kw: Any) -> tuple[int, Any, Any]:
    request = Request(EnvironBuilder(method=method, path=path, **kw).get_environ())
    response = api(request)
    body = json.loads(response.get_data()) if response.get_data() else None
    return response.status_code, body, response.headers


def test_valid_body_is_parsed_and_rendered_in_camel_case() -> None:
    status, body, headers = call("POST", "/", json={"name": "ada", "count": 2})
    assert status == 201
    assert body == {"fullName": "ada", "count": 2}
    assert len(headers["X-Request-Id"]) == 32


def test_function_prefix_in_path_is_accepted() -> None:
    status, body, _ = call("GET", "/echo/items/abc")
    assert (status, body) == (200, {"id": "abc", "limit": 10})


def test_validation_error_names_each_offending_field() -> None:
    status, body, _ = call("POST", "/", json={"name": "", "count": "x", "extra": 1})
    assert status == 400
    assert body["error"]["code"] == "invalid_argument"
    fields = {d["field"] for d in body["error"]["details"]}
    assert fields == {"name", "count", "extra"}


def test_query_string_is_validated() -> None:
    assert call("GET", "/items/a?limit=5")[1]["limit"] == 5
    status, body, _ = call("GET", "/items/a?limit=500")
    assert status == 400
    assert body["error"]["details"][0] == {
        "field": "limit",
        "in": "query",
        "message": "Input should be less than or equal to 50",
        "type": "less_than_equal",
    }


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "invalid_json"),
        ({"data": "", "content_type": "application/json"}, 400, "invalid_json"),
        ({"data": "name=ada", "content_type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
        ({"data": "{}"}, 415, "unsupported_media_type"),
        ({"data": "x" * (1024 * 1024 + 1), "content_type": "application/json"}, 413, "payload_too_large"),
    ],
)
def test_bad_bodies(kwargs: dict[str, Any], status: int, code: str) -> None:
    got_status, body, _ = call("POST", "/", **kwargs)
    assert (got_status, body["error"]["code"]) == (status, code)


def test_unknown_route_and_method() -> None:
    status, body, _ = call("GET", "/nope")
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body, headers = call("PUT", "/")
    assert (status, body["error"]["code"]) == (405, "method_not_allowed")
    assert headers["Allow"] == "OPTIONS, POST"


def test_unhandled_exception_is_500_without_internals(capsys: pytest.CaptureFixture[str]) -> None:
    status, body, headers = call("GET", "/boom")
    assert status == 500
    assert body["error"]["code"] == "internal"
    assert "secret internals" not in json.dumps(body)
    assert body["error"]["requestId"] == headers["X-Request-Id"]
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    failure = next(e for e in logged if e["message"] == "unhandled error")
    assert failure["severity"] == "ERROR"
    assert failure["requestId"] == headers["X-Request-Id"]
    assert "RuntimeError" in failure["stack_trace"]


def test_api_errors_keep_their_status() -> None:
    status, body, _ = call("GET", "/conflict")
    assert (status, body["error"]) == (
        409,
        {"code": "conflict", "message": "already there", "requestId": body["error"]["requestId"]},
    )


def test_204_and_custom_results() -> None:
    status, body, _ = call("DELETE", "/items/x")
    assert (status, body) == (204, None)
    status, body, headers = call("GET", "/custom")
    assert (status, body, headers["X-Extra"]) == (202, {"ok": True}, "1")


def test_sane_incoming_request_id_is_kept_and_junk_replaced() -> None:
    _, _, headers = call("GET", "/items/a", headers={"X-Request-Id": "client-abc-12345"})
    assert headers["X-Request-Id"] == "client-abc-12345"
    _, _, headers = call("GET", "/items/a", headers={"X-Request-Id": "bad id <script>"})
    assert headers["X-Request-Id"] != "bad id <script>"
    assert len(headers["X-Request-Id"]) == 32


def test_log_lines_carry_request_id_and_trace(capsys: pytest.CaptureFixture[str]) -> None:
    trace = "105445aa7843bc8bf206b12000100000/1;o=1"
    _, _, headers = call("GET", "/items/a", headers={"X-Cloud-Trace-Context": trace})
    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert line["requestId"] == headers["X-Request-Id"]
    project = get_config().project
    assert line["logging.googleapis.com/trace"] == f"projects/{project}/traces/105445aa7843bc8bf206b12000100000"
    assert line["logging.googleapis.com/spanId"] == "1"
    assert line["severity"] == "INFO"
    assert line["status"] == 200


def test_cors_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://app.aksio.test")
    get_config.cache_clear()
    try:
        status, _, headers = call(
            "OPTIONS", "/", headers={"Origin": "https://app.aksio.test", "Access-Control-Request-Method": "POST"}
        )
        assert status == 204
        assert headers["Access-Control-Allow-Origin"] == "https://app.aksio.test"
        assert "Authorization" in headers["Access-Control-Allow-Headers"]
        status, _, headers = call("OPTIONS", "/", headers={"Origin": "https://evil.test"})
        assert status == 403
        assert "Access-Control-Allow-Origin" not in headers
        _, _, headers = call("GET", "/items/a", headers={"Origin": "https://app.aksio.test"})
        assert headers["Access-Control-Allow-Origin"] == "https://app.aksio.test"
        _, _, headers = call("GET", "/items/a", headers={"Origin": "https://evil.test"})
        assert "Access-Control-Allow-Origin" not in headers
    finally:
        get_config.cache_clear()


def test_authenticated_route_refuses_missing_and_malformed_tokens() -> None:
    guarded = Api("guarded")

    @guarded.get("/")
    def read(ctx: Ctx) -> dict[str, str]:
        return {"uid": ctx.uid}

    for header in (None, "Basic abc", "Bearer", "Bearer not-a-jwt"):
        headers = {"Authorization": header} if header else {}
        response = guarded(Request(EnvironBuilder(path="/", headers=headers).get_environ()))
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert json.loads(response.get_data())["error"]["code"] == "unauthenticated"


sensitive = Api("sensitive", check_revoked=True)
handled: list[str] = []


@sensitive.get("/missing")
def missing(ctx: Ctx) -> None:
    handled.append(ctx.uid)
    raise errors.NotFound("nothing here")


@sensitive.get("/ok")
def fine(ctx: Ctx) -> dict[str, Any]:
    handled.append(ctx.uid)
    return {"ok": True}


@sensitive.patch("/ok")
def change(ctx: Ctx) -> dict[str, Any]:
    handled.append(ctx.uid)
    return {"changed": True}


def test_a_revoked_session_is_401_whatever_a_read_answered_and_a_write_never_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aksio import auth

    def verify(header: str | None, *, check_revoked: bool = False) -> auth.Caller:
        if check_revoked:  # the revocation lookup: this session was revoked
            raise errors.Unauthenticated("The ID token was revoked; sign in again.", code="token_revoked")
        return auth.Caller(uid="u1")

    monkeypatch.setattr(auth, "verify", verify)

    def send(method: str, path: str) -> tuple[int, Any]:
        response = sensitive(Request(EnvironBuilder(method=method, path=path).get_environ()))
        return response.status_code, json.loads(response.get_data())

    handled.clear()
    for method, path in (("GET", "/missing"), ("GET", "/ok"), ("PATCH", "/ok")):
        status, body = send(method, path)
        assert (status, body["error"]["code"]) == (401, "token_revoked"), (method, path)
    assert handled == ["u1", "u1"]  # the reads ran beside the lookup; the write did not run
