"""Push devices and the in-app inbox over HTTP, as a client uses them."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.conftest import ApiClient, User

pytestmark = pytest.mark.stack


def token() -> str:
    return f"fcm:{uuid.uuid4().hex}-{uuid.uuid4().hex}_x"


@pytest.fixture
def api(gateway_url: str, user: User) -> ApiClient:
    return ApiClient(gateway_url, user, requests.Session())


def device(api: ApiClient, tok: str, status: int = 201, **extra: Any) -> Any:
    return api.ok("POST", "/notifications/devices", status, json={"token": tok, "platform": "android"} | extra)


def test_register_again_is_idempotent_and_tokens_are_never_returned(api: ApiClient) -> None:
    tok = token()
    first = device(api, tok, label="Pixel")
    again = device(api, tok, 200, label="Pixel 9")
    assert again["id"] == first["id"]
    assert again["createdAt"] == first["createdAt"]
    listed = api.ok("GET", "/notifications/devices")["devices"]
    assert [(d["id"], d["label"]) for d in listed] == [(first["id"], "Pixel 9")]
    assert tok not in str(listed)


def test_a_token_moves_to_the_user_who_registers_it(gateway_url: str, new_user: Any, firestore_db: Any) -> None:
    a, b = (ApiClient(gateway_url, new_user(), requests.Session()) for _ in range(2))
    tok = token()
    did = device(a, tok)["id"]
    device(b, tok)
    assert a.ok("GET", "/notifications/devices")["devices"] == []
    assert [d["id"] for d in b.ok("GET", "/notifications/devices")["devices"]] == [did]
    assert firestore_db.collection("deviceTokens").document(did).get().to_dict()["uid"] == b.user.uid


def test_at_most_ten_devices_even_when_registered_at_once(api: ApiClient) -> None:
    for _ in range(7):
        device(api, token())
    with ThreadPoolExecutor(6) as pool:
        answers = list(
            pool.map(
                lambda _: api.call("POST", "/notifications/devices", json={"token": token(), "platform": "ios"}),
                range(6),
            )
        )
    assert sorted(r.status_code for r in answers) == [201, 201, 201, 409, 409, 409]
    assert {r.json()["error"]["code"] for r in answers if r.status_code == 409} == {"too_many_devices"}
    assert len(api.ok("GET", "/notifications/devices")["devices"]) == 10


@pytest.mark.parametrize("bad", ["", "x" * 4097, "has space", "new\nline", None, 5])
def test_bad_tokens_are_400_and_register_nothing(api: ApiClient, bad: Any) -> None:
    r = api.call("POST", "/notifications/devices", json={"token": bad, "platform": "web"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"][0]["field"] == "token"
    assert api.ok("GET", "/notifications/devices")["devices"] == []


def test_remove_a_device_once_and_never_another_users(gateway_url: str, api: ApiClient, new_user: Any) -> None:
    did = device(api, token())["id"]
    other = ApiClient(gateway_url, new_user(), requests.Session())
    assert other.call("DELETE", f"/notifications/devices/{did}").status_code == 404
    assert api.ok("DELETE", f"/notifications/devices/{did}") == {"id": did, "deleted": True}
    assert api.call("DELETE", f"/notifications/devices/{did}").status_code == 404


def seed(db: Any, uid: str, n: int) -> list[str]:
    col = db.collection("users").document(uid).collection("notifications")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    ids = []
    for i in range(n):
        ref = col.document(f"n{i:03d}")
        ref.set(
            {
                "kind": "reminder",
                "title": f"{i + 1} cards due",
                "body": "b",
                "read": False,
                "createdAt": start + timedelta(hours=i),
                "expireAt": start + timedelta(days=30),
            }
        )
        ids.append(ref.id)
    return ids


def test_the_inbox_pages_newest_first_counts_unread_and_marks_read_once(
    gateway_url: str, api: ApiClient, new_user: Any, firestore_db: Any
) -> None:
    ids = seed(firestore_db, api.user.uid, 5)
    first = api.ok("GET", "/notifications?limit=2")
    second = api.ok("GET", f"/notifications?limit=2&cursor={first['nextCursor']}")
    last = api.ok("GET", f"/notifications?limit=2&cursor={second['nextCursor']}")
    seen = [n["id"] for page in (first, second, last) for n in page["notifications"]]
    assert seen == list(reversed(ids))
    assert "nextCursor" not in last
    assert api.ok("GET", "/notifications/unread") == {"unread": 5}
    read = api.ok("POST", f"/notifications/{ids[0]}/read")
    again = api.ok("POST", f"/notifications/{ids[0]}/read")
    assert read["read"]
    assert again["readAt"] == read["readAt"]
    assert api.ok("GET", "/notifications/unread") == {"unread": 4}
    other = ApiClient(gateway_url, new_user(), requests.Session())
    assert other.call("POST", f"/notifications/{ids[1]}/read").status_code == 404
    assert api.call("POST", "/notifications/nope/read").status_code == 404
    assert api.ok("GET", "/notifications/unread") == {"unread": 4}


def test_bad_inbox_queries_and_bodies_are_400_in_the_error_shape(api: ApiClient) -> None:
    for path in ("/notifications?limit=0", "/notifications?limit=x", "/notifications?cursor=not-ours"):
        r = api.call("GET", path)
        assert r.status_code == 400, path
        assert r.json()["error"]["code"] in ("invalid_argument", "invalid_cursor")
        assert r.json()["error"]["requestId"]
    bad = api.call("POST", "/notifications/devices", json={"token": token(), "platform": "blackberry"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["field"] == "platform"
    assert api.ok("GET", "/notifications/devices")["devices"] == []
