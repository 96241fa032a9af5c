"""The HTTP contract every function shares, through the gateway with real Auth-emulator
tokens and the Firestore emulator: statuses, the error shape, request ids, CORS."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import firebase_admin.auth
import pytest
import requests

from aksio.auth import firebase_app
from tests.conftest import User

pytestmark = pytest.mark.stack


def unsigned_token(claims: dict[str, object]) -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def claims_for(uid: str, **over: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "iss": "https://securetoken.google.com/demo-aksio",
        "aud": "demo-aksio",
        "sub": uid,
        "iat": now - 10,
        "exp": now + 3600,
        "auth_time": now - 10,
    }
    return base | over


def assert_error(response: requests.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["requestId"] == response.headers["X-Request-Id"]
    return error


def test_health_answers_with_a_firestore_round_trip(gateway_url: str) -> None:
    response = requests.get(f"{gateway_url}/health", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["firestore"]["ok"] is True
    assert response.headers["X-Request-Id"]


def test_missing_and_garbage_tokens_are_401(gateway_url: str) -> None:
    assert_error(requests.get(f"{gateway_url}/account", timeout=10), 401, "unauthenticated")
    for header in ("Bearer nonsense", "Bearer a.b.c", "Token abc", "Bearer " + "x" * 8100):
        response = requests.get(f"{gateway_url}/account", headers={"Authorization": header}, timeout=10)
        assert_error(response, 401, "unauthenticated")


def test_a_header_over_the_servers_limit_is_refused_by_the_server_as_in_production(gateway_url: str) -> None:
    # functions-framework's gunicorn (production's server, the gateway's too) refuses a header
    # field over 8190 bytes before the function runs: 431, its own HTML page, not our JSON shape
    response = requests.get(f"{gateway_url}/account", headers={"Authorization": "Bearer " + "x" * 9000}, timeout=10)
    assert response.status_code == 431


def test_expired_wrong_project_and_unknown_user_tokens_are_401(gateway_url: str, user: User) -> None:
    cases = {
        "token_expired": claims_for(user.uid, exp=int(time.time()) - 120, iat=int(time.time()) - 4000),
        "unauthenticated": claims_for(user.uid, aud="someone-elses-project"),
        "user_not_found": claims_for("no-such-user-" + user.uid),
    }
    for code, claims in cases.items():
        headers = {"Authorization": f"Bearer {unsigned_token(claims)}"}
        assert_error(requests.get(f"{gateway_url}/account", headers=headers, timeout=10), 401, code)


def test_token_of_a_deleted_user_is_401(gateway_url: str, user: User) -> None:
    assert requests.get(f"{gateway_url}/account", headers=user.headers, timeout=10).status_code == 200
    firebase_admin.auth.delete_user(user.uid, app=firebase_app())
    response = requests.get(f"{gateway_url}/account", headers=user.headers, timeout=10)
    assert_error(response, 401, "user_not_found")


def test_revoked_tokens_are_401_and_change_nothing(gateway_url: str, user: User, firestore_db: Any) -> None:
    time.sleep(1.1)  # revocation is at second precision: the token must predate it
    firebase_admin.auth.revoke_refresh_tokens(user.uid, app=firebase_app())
    response = requests.get(f"{gateway_url}/account", headers=user.headers, timeout=10)
    assert_error(response, 401, "token_revoked")
    change = requests.patch(f"{gateway_url}/account", json={"displayName": "Eve"}, headers=user.headers, timeout=10)
    assert_error(change, 401, "token_revoked")
    assert not firestore_db.collection("users").document(user.uid).get().exists


def test_account_defaults_then_patch_and_read_back(gateway_url: str, user: User) -> None:
    first = requests.get(f"{gateway_url}/account", headers=user.headers, timeout=10)
    assert first.status_code == 200
    assert first.json()["uid"] == user.uid
    assert first.json()["settings"]["newCardsPerDay"] == 20
    change = {"displayName": "Ada", "settings": {"timezone": "Europe/Oslo", "newCardsPerDay": 35}}
    for _ in range(2):  # the same change twice (a client retry) gives the same result
        response = requests.patch(f"{gateway_url}/account", json=change, headers=user.headers, timeout=10)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["displayName"] == "Ada"
        assert (body["settings"]["timezone"], body["settings"]["newCardsPerDay"]) == ("Europe/Oslo", 35)
        assert body["settings"]["reviewsPerDay"] == 200
    settings = requests.get(f"{gateway_url}/account/settings", headers=user.headers, timeout=10).json()
    assert settings["timezone"] == "Europe/Oslo"
    changed = requests.patch(
        f"{gateway_url}/account/settings", json={"desiredRetention": 0.85}, headers=user.headers, timeout=10
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["desiredRetention"], changed.json()["newCardsPerDay"]) == (0.85, 35)


def test_bad_bodies_get_clear_errors_and_change_nothing(gateway_url: str, user: User) -> None:
    url = f"{gateway_url}/account"
    requests.patch(url, json={"settings": {"newCardsPerDay": 7}}, headers=user.headers, timeout=10)
    before = requests.get(url, headers=user.headers, timeout=10).json()

    json_headers = user.headers | {"Content-Type": "application/json"}
    assert_error(requests.patch(url, data="{oops", headers=json_headers, timeout=10), 400, "invalid_json")
    text_headers = user.headers | {"Content-Type": "text/plain"}
    assert_error(requests.patch(url, data="{}", headers=text_headers, timeout=10), 415, "unsupported_media_type")
    big = json.dumps({"displayName": "x" * (1024 * 1024)})
    assert_error(requests.patch(url, data=big, headers=json_headers, timeout=10), 413, "payload_too_large")
    invalid = {"settings": {"desiredRetention": 0.5, "timezone": "Nowhere/Land", "newCardsPerDay": 8}}
    error = assert_error(requests.patch(url, json=invalid, headers=user.headers, timeout=10), 400, "invalid_argument")
    fields = {d["field"] for d in error["details"]}  # type: ignore[union-attr]
    assert fields == {"settings.desiredRetention", "settings.timezone"}
    assert_error(requests.put(url, json={}, headers=user.headers, timeout=10), 405, "method_not_allowed")
    assert_error(requests.get(f"{url}/nothing-here", headers=user.headers, timeout=10), 404, "not_found")

    after = requests.get(url, headers=user.headers, timeout=10).json()
    assert after == before
    assert after["settings"]["newCardsPerDay"] == 7


def test_concurrent_changes_of_different_settings_all_land(gateway_url: str, user: User) -> None:
    changes = [
        {"settings": {"newCardsPerDay": 11}},
        {"settings": {"reviewsPerDay": 111}},
        {"settings": {"timezone": "Asia/Tokyo"}},
        {"settings": {"leechThreshold": 5}},
        {"settings": {"reminderHour": 7}},
        {"displayName": "Grace"},
    ]

    def send(change: dict[str, object]) -> int:
        url = f"{gateway_url}/account"
        return requests.patch(url, json=change, headers=user.headers, timeout=30).status_code

    with ThreadPoolExecutor(len(changes)) as pool:
        assert list(pool.map(send, changes)) == [200] * len(changes)
    body = requests.get(f"{gateway_url}/account", headers=user.headers, timeout=10).json()
    s = body["settings"]
    assert (s["newCardsPerDay"], s["reviewsPerDay"], s["timezone"]) == (11, 111, "Asia/Tokyo")
    assert (s["leechThreshold"], s["reminderHour"], body["displayName"]) == (5, 7, "Grace")


def test_users_never_see_each_other(gateway_url: str, new_user: Callable[[], User]) -> None:
    alice, bob = new_user(), new_user()
    requests.patch(f"{gateway_url}/account", json={"displayName": "Alice"}, headers=alice.headers, timeout=10)
    bob_view = requests.get(f"{gateway_url}/account", headers=bob.headers, timeout=10).json()
    assert bob_view["uid"] == bob.uid
    assert "displayName" not in bob_view


def test_cors_preflight_allow_list(gateway_url: str) -> None:
    allowed = requests.options(
        f"{gateway_url}/account",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "PATCH"},
        timeout=10,
    )
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    denied = requests.options(f"{gateway_url}/account", headers={"Origin": "https://evil.example"}, timeout=10)
    assert_error(denied, 403, "cors_origin_denied")


def test_openapi_document_is_served(gateway_url: str) -> None:
    from openapi_spec_validator import validate

    document = requests.get(f"{gateway_url}/openapi.json", timeout=10).json()
    validate(document)
    assert {"/health", "/account"} <= set(document["paths"])
