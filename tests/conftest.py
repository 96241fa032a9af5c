"""Fixtures shared by the whole suite.

Tests that need a peer of the local stack read where it is from the environment that
``local/stack exec`` sets (``make test`` does that). Run alone, without the stack,
such tests are skipped with the reason; under the stack (``AKSIO_STACK=1``) a missing
peer is an error, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import requests


@pytest.fixture(autouse=True)
def _fresh_config() -> Iterator[None]:
    """Each test reads the environment anew (``aksio.config`` caches it per instance); a
    test that changes the environment after the configuration was read calls
    ``aksio.clients.reset_clients()``."""
    from aksio.config import get_config

    get_config.cache_clear()
    yield
    get_config.cache_clear()


def need_env(*names: str) -> dict[str, str]:
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        message = f"needs the local stack ({', '.join(missing)} unset): run `make test`"
        if os.environ.get("AKSIO_STACK") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return {n: os.environ[n] for n in names}


@pytest.fixture(scope="session")
def gateway_url() -> str:
    return need_env("GATEWAY_URL")["GATEWAY_URL"].rstrip("/")


@pytest.fixture(scope="session")
def auth_emulator() -> str:
    return need_env("FIREBASE_AUTH_EMULATOR_HOST")["FIREBASE_AUTH_EMULATOR_HOST"]


@pytest.fixture(scope="session")
def firestore_db():  # type: ignore[no-untyped-def]
    need_env("FIRESTORE_EMULATOR_HOST")
    from aksio.clients import firestore_client

    return firestore_client()


@dataclass
class User:
    uid: str
    email: str
    id_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.id_token}"}


@dataclass
class ApiClient:
    """A signed-in user's calls through the gateway (e2e modules add their own helpers)."""

    base: str
    user: User
    session: requests.Session

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 60)
        headers = self.user.headers | kw.pop("headers", {})
        return self.session.request(method, f"{self.base}{path}", headers=headers, **kw)

    def ok(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        response = self.call(method, path, **kw)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()


PASSWORD = "correct horse battery"


def sign_up(auth_host: str, email: str | None = None) -> User:
    """A new user in the Auth emulator, signed in: the same REST call the web SDK makes."""
    email = email or f"student-{uuid.uuid4().hex[:12]}@example.test"
    response = requests.post(
        f"http://{auth_host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=local-api-key",
        json={"email": email, "password": PASSWORD, "returnSecureToken": True},
        timeout=10,
    )
    response.raise_for_status()
    data = response.json()
    return User(uid=data["localId"], email=email, id_token=data["idToken"])


@pytest.fixture
def new_user(auth_emulator: str) -> Callable[[], User]:
    return lambda: sign_up(auth_emulator)


@pytest.fixture
def user(new_user: Callable[[], User]) -> User:
    return new_user()


class Aborts:
    """The Firestore emulator's fault injection: transaction commits touching a path prefix
    answer ABORTED, as production does under contention (``:abortTransactions``)."""

    def __init__(self) -> None:
        host = need_env("FIRESTORE_EMULATOR_HOST")["FIRESTORE_EMULATOR_HOST"]
        project = os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCLOUD_PROJECT") or "demo-aksio"
        self.url = f"http://{host}/emulator/v1/projects/{project}/databases/(default):abortTransactions"
        self.prefixes: list[str] = []

    def on(self, path_prefix: str, count: int = 1000) -> None:
        """The next ``count`` commits touching ``path_prefix`` abort (more than any retry budget)."""
        self.prefixes.append(path_prefix)
        requests.post(self.url, json={"pathPrefix": path_prefix, "count": count}, timeout=10).raise_for_status()

    def off(self, path_prefix: str) -> None:
        requests.post(self.url, json={"pathPrefix": path_prefix, "count": 0}, timeout=10).raise_for_status()


@pytest.fixture
def aborts() -> Iterator[Aborts]:
    faults = Aborts()
    yield faults
    for prefix in faults.prefixes:
        faults.off(prefix)


def task_token(audience: str, email: str | None = None) -> str:
    """An OIDC token as Cloud Tasks sends, minted by the stack's Tasks emulator (its local-only
    ``/_test/token``, beside the certificates run-generation checks tokens with), for the
    queue's account (or ``email``) and ``audience``."""
    env = need_env("TASKS_OIDC_CERTS_URL", "TASKS_SERVICE_ACCOUNT")
    base = env["TASKS_OIDC_CERTS_URL"].split("/oauth2/")[0]
    asked = {"email": email or env["TASKS_SERVICE_ACCOUNT"], "audience": audience}
    response = requests.post(f"{base}/_test/token", json=asked, timeout=10)
    response.raise_for_status()
    return str(response.json()["token"])


def task_headers(gateway: str | None = None) -> dict[str, str]:
    """The headers of a task call to ``<gateway>/run-generation`` (default ``$GATEWAY_URL``)."""
    audience = f"{(gateway or need_env('GATEWAY_URL')['GATEWAY_URL']).rstrip('/')}/run-generation"
    return {"Authorization": f"Bearer {task_token(audience)}", "Content-Type": "application/json"}


# The gateway gets the environment the stack was started with: with OPENAI_API_KEY set it would
# call the real model, and these tests assert what the offline provider makes. Under the
# whole stack (AKSIO_STACK=1, as CI runs) that is a failure, never a silent skip.
OFFLINE_ONLY = pytest.mark.usefixtures("offline_gateway")
KEY_SET = "OPENAI_API_KEY is set: the gateway would call the real model; unset it to run these tests"


def offline_gateway_check(env: Mapping[str, str] = os.environ) -> str | None:
    """``fail`` or ``skip`` (with :data:`KEY_SET`) when the gateway would not be offline."""
    if not env.get("OPENAI_API_KEY"):
        return None
    return "fail" if env.get("AKSIO_STACK") == "1" else "skip"


@pytest.fixture
def offline_gateway() -> None:
    what = offline_gateway_check()
    if what == "fail":
        pytest.fail(KEY_SET)
    if what == "skip":
        pytest.skip(KEY_SET)
