"""What the routes that spend money ask of the caller (aksio.guards), with the real Auth and
Firestore emulators: the functions run in this process so each test can set the switches
(``AI_DISABLED``, ``REQUIRE_VERIFIED_EMAIL``, ``REVOCATION_CACHE_SECONDS``); the disabled
account is also checked through the stack's gateway as it is configured."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from flask import Request
from werkzeug.test import EnvironBuilder

from aksio import auth, usage
from aksio.clients import reset_clients
from tests.conftest import User
from tests.e2e.ai.conftest import Client

pytestmark = pytest.mark.stack


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    auth.forget_states()
    yield monkeypatch
    auth.forget_states()
    reset_clients()


def setenv(env: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        env.setenv(name, value)
    reset_clients()


def call(api: Any, user: User, body: dict[str, Any]) -> Any:
    headers = user.headers | {"Content-Type": "application/json"}
    builder = EnvironBuilder(path="/", method="POST", data=json.dumps(body), headers=headers)
    response = api(Request(builder.get_environ()))
    return response.status_code, json.loads(response.get_data() or b"{}")


def chat_api() -> Any:
    from aksio.endpoints import chat_reply

    return chat_reply.api


def generate_api() -> Any:
    from aksio.endpoints import generate_flashcards

    return generate_flashcards.api


def upload_api() -> Any:
    from aksio.endpoints import create_upload

    return create_upload.api


UPLOAD = {"filename": "notes.txt", "contentType": "text/plain", "sizeBytes": 40}
JOB = {"text": "Mitochondria make ATP.", "newDeckName": "Cells", "count": 1}


def test_the_operator_switch_turns_ai_off_with_a_clear_503_and_a_logged_event(
    env: pytest.MonkeyPatch, user: User, firestore_db: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    setenv(env, AI_DISABLED="on")
    capsys.readouterr()
    for api, body in ((chat_api(), {"message": "What is ATP?"}), (generate_api(), JOB)):
        status, answer = call(api, user, body)
        assert status == 503, answer
        assert answer["error"]["code"] == "ai_disabled"
        assert "turned off" in answer["error"]["message"]
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [e["message"] for e in events if e.get("event") == "ai_disabled"] == ["ai_disabled", "ai_disabled"]
    assert (
        not firestore_db.document(f"users/{user.uid}/usage/{usage.period_key('month', datetime.now(UTC))}").get().exists
    )
    status, _ = call(upload_api(), user, UPLOAD)  # uploads still work: documents go lexical
    assert status == 201
    setenv(env, AI_DISABLED="off")
    assert call(chat_api(), user, {"message": "What is ATP?"})[0] == 200


def verify_email(auth_host: str, user: User) -> User:
    """The user clicks the link: the account's email is verified, and a fresh token says so."""
    from firebase_admin import auth as admin

    admin.update_user(user.uid, email_verified=True, app=auth.firebase_app())
    response = requests.post(
        f"http://{auth_host}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=local-api-key",
        json={"email": user.email, "password": "correct horse battery", "returnSecureToken": True},
        timeout=10,
    )
    response.raise_for_status()
    return User(uid=user.uid, email=user.email, id_token=response.json()["idToken"])


def test_a_verified_email_is_required_when_configured(env: pytest.MonkeyPatch, user: User, auth_emulator: str) -> None:
    setenv(env, REQUIRE_VERIFIED_EMAIL="on")
    for api, body in ((chat_api(), {"message": "What is ATP?"}), (generate_api(), JOB), (upload_api(), UPLOAD)):
        status, answer = call(api, user, body)
        assert status == 403, answer
        assert answer["error"]["code"] == "email_not_verified"
    verified = verify_email(auth_emulator, user)
    assert call(upload_api(), verified, UPLOAD)[0] == 201
    assert call(chat_api(), verified, {"message": "What is ATP?"})[0] == 200


def test_without_the_requirement_an_unverified_email_may_spend(
    env: pytest.MonkeyPatch, new_user: Callable[[], User]
) -> None:
    setenv(env, REQUIRE_VERIFIED_EMAIL="off")
    assert call(upload_api(), new_user(), UPLOAD)[0] == 201


def test_a_disabled_account_loses_the_spending_routes_at_once_through_the_gateway(client: Client) -> None:
    from firebase_admin import auth as admin

    assert client.ok("GET", "/decks")["decks"] == []
    admin.update_user(client.user.uid, disabled=True, app=auth.firebase_app())
    for path, body in (("/chat-reply", {"message": "Hi"}), ("/create-upload", UPLOAD), ("/generate-flashcards", JOB)):
        r = client.call("POST", path, json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (401, "user_disabled"), r.text
    r = client.call("POST", "/create-checkout-session", json={"plan": "pro"})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "user_disabled"), r.text
    assert client.call("GET", "/decks").status_code == 200  # reading is not spending (the token lives ≤ 1 h)


def test_the_account_state_is_cached_briefly_then_looked_up_again(env: pytest.MonkeyPatch, user: User) -> None:
    from firebase_admin import auth as admin

    setenv(env, REVOCATION_CACHE_SECONDS="60")
    assert call(upload_api(), user, UPLOAD)[0] == 201  # looked up: active, cached
    time.sleep(1.1)  # revocation has a resolution of one second (the token's auth_time)
    admin.revoke_refresh_tokens(user.uid, app=auth.firebase_app())
    assert call(upload_api(), user, UPLOAD)[0] == 201  # within the cache's 60 s
    auth.forget_states()  # the 60 s are over
    status, answer = call(upload_api(), user, UPLOAD)
    assert (status, answer["error"]["code"]) == (401, "token_revoked")


def quizzes_api() -> Any:
    from aksio.endpoints import quizzes

    return quizzes.api


def test_the_switch_stops_quizzes_from_documents_not_from_decks(env: pytest.MonkeyPatch, user: User) -> None:
    setenv(env, AI_DISABLED="on")
    status, answer = call(quizzes_api(), user, {"documentIds": ["d1"], "count": 3})
    assert status == 503, answer
    assert answer["error"]["code"] == "ai_disabled"
    status, answer = call(quizzes_api(), user, {"deckId": "nodeck", "count": 3})
    assert status == 404, answer  # a deck quiz is no AI: it goes on (to the missing deck)
    setenv(env, AI_DISABLED="off", REQUIRE_VERIFIED_EMAIL="on")
    status, answer = call(quizzes_api(), user, {"documentIds": ["d1"], "count": 3})
    assert status == 403, answer
    assert answer["error"]["code"] == "email_not_verified"
