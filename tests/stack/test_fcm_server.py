"""local/fcm_server.py speaks FCM HTTP v1's messages:send, over real HTTP on loopback."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fcm_server import FCM_ERROR, FcmServer

from tests.stack.conftest import PYTHON, REPO, free_port, wait_until

PROJECT = "demo-aksio"
AUTH = {"Authorization": "Bearer ya29.local-token"}


@pytest.fixture
def fcm() -> Iterator[str]:
    server = FcmServer(port=0, project=PROJECT).start()
    yield server.url
    server.stop()


def send(base: str, message: Any, *, headers: dict[str, str] | None = None, **extra: Any) -> requests.Response:
    url = f"{base}/v1/projects/{extra.pop('project', PROJECT)}/messages:send"
    return requests.post(
        url, json={"message": message, **extra}, headers=AUTH if headers is None else headers, timeout=5
    )


def reminder(token: str) -> dict[str, Any]:
    return {
        "token": token,
        "notification": {"title": "Time to study", "body": "12 cards are due"},
        "data": {"kind": "reminder", "due": "12"},
        "android": {"priority": "high"},
        "apns": {"headers": {"apns-priority": "10"}},
        "webpush": {"fcm_options": {"link": "https://aksio.test/study"}},
    }


def fcm_code(response: requests.Response) -> str | None:
    codes = [d["errorCode"] for d in response.json()["error"].get("details", []) if d["@type"] == FCM_ERROR]
    return codes[0] if codes else None


def inject(base: str, token: str, error: str, count: int = 1, **extra: Any) -> None:
    response = requests.post(f"{base}/_test/tokens/{token}", json={"error": error, "count": count, **extra}, timeout=5)
    assert response.status_code == 200, response.text


def messages(base: str, **params: str) -> list[dict[str, Any]]:
    return list(requests.get(f"{base}/_test/messages", params=params, timeout=5).json()["messages"])


def test_a_valid_message_is_accepted_named_and_recorded(fcm: str) -> None:
    response = send(fcm, reminder("tok-1"))

    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    name = response.json()["name"]
    assert name.startswith(f"projects/{PROJECT}/messages/0:")
    [recorded] = messages(fcm)
    assert recorded["name"] == name
    assert recorded["token"] == "tok-1"
    assert recorded["project"] == PROJECT
    assert recorded["time"].endswith("Z")
    assert recorded["message"] == reminder("tok-1")


def test_recorded_messages_are_listed_in_order_filtered_by_token_and_cleared(fcm: str) -> None:
    for token in ("a", "b", "a"):
        assert send(fcm, {"token": token, "data": {"n": token}}).status_code == 200

    assert [m["token"] for m in messages(fcm)] == ["a", "b", "a"]
    assert [m["token"] for m in messages(fcm, token="a")] == ["a", "a"]
    assert requests.delete(f"{fcm}/_test/messages", timeout=5).json() == {"cleared": 3}
    assert messages(fcm) == []


def test_validate_only_answers_without_delivering(fcm: str) -> None:
    response = send(fcm, reminder("tok-1"), validate_only=True)

    assert response.status_code == 200
    assert response.json() == {"name": f"projects/{PROJECT}/messages/fake_message_id"}
    assert messages(fcm) == []


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Request is missing required authentication credential."),
        ({"Authorization": "Bearer "}, "Request had invalid authentication credentials."),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Request had invalid authentication credentials."),
    ],
)
def test_a_request_without_a_bearer_token_is_401(fcm: str, headers: dict[str, str], message: str) -> None:
    response = send(fcm, reminder("tok-1"), headers=headers)

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == 401
    assert error["status"] == "UNAUTHENTICATED"
    assert error["message"].startswith(message)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert messages(fcm) == []


def test_another_project_is_denied(fcm: str) -> None:
    response = send(fcm, reminder("tok-1"), project="someone-else")

    assert response.status_code == 403
    assert response.json()["error"]["status"] == "PERMISSION_DENIED"


def bad_request_fields(response: requests.Response) -> list[str]:
    details = response.json()["error"].get("details", [])
    return [v.get("field", "") for d in details if d["@type"].endswith("BadRequest") for v in d["fieldViolations"]]


PAYLOAD = "Invalid JSON payload received."
NO_TARGET = "Recipient of the message is not set."
BAD_TOKEN = "The registration token is not a valid FCM registration token"
INVALID = "INVALID_ARGUMENT"
MALFORMED = [
    # body, the error message's start, the BadRequest's field, FCM's own errorCode
    (b"{not json", PAYLOAD, "", None),
    (b"[1, 2]", PAYLOAD, "", None),
    (b'{"message": {"token": "t"}, "extra": 1}', f'{PAYLOAD} Unknown name "extra"', "", None),
    (b'{"message": {"token": "t", "badge": 3}}', f'{PAYLOAD} Unknown name "badge" at', "message", None),
    (b'{"message": {"notification": {"title": "x"}}}', NO_TARGET, "message", INVALID),
    (b"{}", NO_TARGET, "message", INVALID),
    (b'{"message": {"token": ""}}', BAD_TOKEN, "message.token", INVALID),
    (b'{"message": {"token": "  "}}', BAD_TOKEN, "message.token", INVALID),
    (b'{"message": {"token": 12}}', "Invalid value at 'message.token' (TYPE_STRING), 12", "message.token", None),
    (b'{"message": {"token": "t", "topic": "news"}}', "Invalid value at 'message' (oneof)", "message", None),
    (b'{"message": {"token": "t", "notification": {"title": 5}}}', "Invalid value", "message.notification.title", None),
    (b'{"message": {"token": "t", "android": "high"}}', "Invalid value at 'message.android'", "message.android", None),
    (b'{"message": {"token": "t"}, "validate_only": "yes"}', "Invalid value at 'validate_only'", "validate_only", None),
    (b'{"message": {"token": "t", "data": {"from": "x"}}}', "Invalid data payload key", "message.data[0].key", INVALID),
]


@pytest.mark.parametrize(("body", "message_start", "field", "code"), MALFORMED)
def test_a_malformed_request_is_400_invalid_argument(
    fcm: str, body: bytes, message_start: str, field: str, code: str | None
) -> None:
    response = requests.post(
        f"{fcm}/v1/projects/{PROJECT}/messages:send",
        data=body,
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=5,
    )

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == 400
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"].startswith(message_start)
    assert bad_request_fields(response) == [field]
    assert fcm_code(response) == code
    assert messages(fcm) == []


@pytest.mark.parametrize(("value", "shown"), [(12, "12"), (True, "true"), (None, "null"), ({"a": "b"}, '{"a": "b"}')])
def test_data_values_must_be_strings(fcm: str, value: Any, shown: str) -> None:
    response = send(fcm, {"token": "t", "data": {"kind": "reminder", "due": value}})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"] == f"Invalid value at 'message.data[1].value' (TYPE_STRING), {shown}"
    assert bad_request_fields(response) == ["message.data[1].value"]


def test_a_payload_over_4096_bytes_is_refused(fcm: str) -> None:
    response = send(fcm, {"token": "t", "data": {"blob": "x" * 4096}})

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": 400,
        "message": "Request contains an invalid argument.",
        "status": "INVALID_ARGUMENT",
    }


def test_unknown_paths_and_methods_are_404(fcm: str) -> None:
    assert requests.get(f"{fcm}/v1/projects/{PROJECT}/messages:send", headers=AUTH, timeout=5).status_code == 404
    response = requests.post(f"{fcm}/v1/projects/{PROJECT}/messages:sendAll", headers=AUTH, json={}, timeout=5)
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"


def test_an_unregistered_token_fails_like_fcm_then_recovers_after_count(fcm: str) -> None:
    inject(fcm, "gone", "UNREGISTERED", count=1)

    first = send(fcm, reminder("gone"))
    assert first.status_code == 404
    assert first.json() == {
        "error": {
            "code": 404,
            "message": "Requested entity was not found.",
            "status": "NOT_FOUND",
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}],
        }
    }
    assert send(fcm, reminder("other")).status_code == 200  # other tokens are not affected
    assert send(fcm, reminder("gone")).status_code == 200  # the count is spent
    assert [m["token"] for m in messages(fcm)] == ["other", "gone"]
    assert requests.get(f"{fcm}/_test/tokens", timeout=5).json() == {"tokens": {}}


@pytest.mark.parametrize(
    ("error", "status", "canonical"),
    [
        ("QUOTA_EXCEEDED", 429, "RESOURCE_EXHAUSTED"),
        ("UNAVAILABLE", 503, "UNAVAILABLE"),
        ("INTERNAL", 500, "INTERNAL"),
        ("INVALID_ARGUMENT", 400, "INVALID_ARGUMENT"),
        ("SENDER_ID_MISMATCH", 403, "PERMISSION_DENIED"),
        ("THIRD_PARTY_AUTH_ERROR", 401, "UNAUTHENTICATED"),
    ],
)
def test_injected_failures_have_fcms_status_and_error_code(fcm: str, error: str, status: int, canonical: str) -> None:
    inject(fcm, "tok", error, count=2)

    for _ in range(2):
        response = send(fcm, reminder("tok"))
        assert response.status_code == status
        assert response.json()["error"]["code"] == status
        assert response.json()["error"]["status"] == canonical
        assert fcm_code(response) == error
    assert send(fcm, reminder("tok")).status_code == 200
    assert len(messages(fcm)) == 1


def test_quota_exceeded_says_when_to_retry(fcm: str) -> None:
    inject(fcm, "busy", "QUOTA_EXCEEDED", retryAfter=7)

    response = send(fcm, reminder("busy"))

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"


def test_unavailable_has_no_retry_after_unless_fcm_sends_one(fcm: str) -> None:
    inject(fcm, "tok", "UNAVAILABLE")
    response = send(fcm, reminder("tok"))
    assert response.status_code == 503
    assert "Retry-After" not in response.headers


def test_a_failure_for_every_send_stays_until_cleared(fcm: str) -> None:
    inject(fcm, "dead", "UNREGISTERED", count=-1)

    assert [send(fcm, reminder("dead")).status_code for _ in range(3)] == [404, 404, 404]
    assert send(fcm, reminder("dead"), validate_only=True).status_code == 404  # FCM checks the token then too
    tokens = requests.get(f"{fcm}/_test/tokens", timeout=5).json()["tokens"]
    assert tokens == {"dead": {"error": "UNREGISTERED", "count": -1, "retryAfter": 1}}

    assert requests.delete(f"{fcm}/_test/tokens", timeout=5).json() == {"cleared": 1}
    assert send(fcm, reminder("dead")).status_code == 200


def test_a_malformed_request_is_refused_before_an_injected_failure(fcm: str) -> None:
    inject(fcm, "tok", "UNAVAILABLE", count=1)

    assert send(fcm, {"token": "tok", "data": {"n": 1}}).status_code == 400
    assert send(fcm, reminder("tok")).status_code == 503  # the injected failure was still there


def test_tokens_with_url_special_characters_can_be_targeted(fcm: str) -> None:
    token = "fcm:abc-def_x"
    inject(fcm, "fcm%3Aabc-def_x", "UNREGISTERED")

    assert send(fcm, reminder(token)).status_code == 404
    assert requests.delete(f"{fcm}/_test/tokens/fcm%3Aabc-def_x", timeout=5).json() == {"cleared": 0}


@pytest.mark.parametrize(
    "spec",
    [{"error": "NOPE"}, {"error": "UNREGISTERED", "count": -2}, {"error": "INTERNAL", "count": "2"}, {"count": 1}],
)
def test_a_wrong_injection_is_refused(fcm: str, spec: dict[str, Any]) -> None:
    response = requests.post(f"{fcm}/_test/tokens/tok", json=spec, timeout=5)
    assert response.status_code == 400
    assert requests.get(f"{fcm}/_test/tokens", timeout=5).json() == {"tokens": {}}


def test_every_send_is_logged_with_its_outcome(fcm: str) -> None:
    inject(fcm, "busy", "QUOTA_EXCEEDED")
    send(fcm, reminder("busy"))
    send(fcm, reminder("busy"))
    send(fcm, reminder("tok"), validate_only=True)

    log = requests.get(f"{fcm}/_test/requests", timeout=5).json()["requests"]

    assert [(r["token"], r["status"], r["errorCode"], r["validateOnly"]) for r in log] == [
        ("busy", 429, "QUOTA_EXCEEDED", False),
        ("busy", 200, None, False),
        ("tok", 200, None, True),
    ]
    assert requests.delete(f"{fcm}/_test/requests", timeout=5).json() == {"cleared": 3}


def test_it_runs_alone_says_where_it_listens_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "fcm.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [PYTHON, str(REPO / "local" / "fcm_server.py"), "--port", str(port)], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_until(lambda: "listening on" in log_path.read_text() or process.poll() is not None, 20, "the server")
            assert f"fcm listening on http://127.0.0.1:{port}" in log_path.read_text()
            base = f"http://127.0.0.1:{port}"
            assert send(base, reminder("t"), project="any-project").status_code == 200  # no --project: any
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
