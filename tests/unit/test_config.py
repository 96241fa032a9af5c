"""The configuration: every setting from its variable with its default, production decided by
the project, unsafe production environments refused at start, and AI that never silently
falls back in production."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aksio import edge, errors, secrets
from aksio.ai import get_provider, reset_provider
from aksio.clients import reset_clients
from aksio.config import Config, ConfigError, emulator_variables, get_config, load
from aksio.deadlines import STRIPE_TIMEOUT_S

ROOT = Path(__file__).resolve().parents[2]
PROD = "aksio-prod"
ORIGINS = ("http://a.test:5173", "https://app.test")

# (variable, value, field, parsed value): every setting the package reads.
SETTINGS: list[tuple[str, str, str, Any]] = [
    ("GOOGLE_CLOUD_PROJECT", "demo-x", "project", "demo-x"),
    ("FUNCTION_REGION", "europe-west1", "region", "europe-west1"),
    ("UPLOAD_BUCKET", "b", "upload_bucket", "b"),
    ("TASKS_QUEUE", "q", "tasks_queue", "q"),
    ("TASKS_LOCATION", "europe-west1", "tasks_location", "europe-west1"),
    ("CORS_ORIGINS", "https://a.test, https://b.test", "cors_origins", ("https://a.test", "https://b.test")),
    ("MAX_BODY_BYTES", "2048", "max_body_bytes", 2048),
    ("FIRESTORE_DATABASE", "db2", "firestore_database", "db2"),
    ("AI_PROVIDER", "Offline", "ai_provider", "offline"),
    ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1", "openai_base_url", "http://127.0.0.1:9/v1"),
    ("OPENAI_MODEL", "llama", "openai_model", "llama"),
    ("OPENAI_EMBEDDING_MODEL", "e5", "openai_embedding_model", "e5"),
    ("OPENAI_TIMEOUT_SECONDS", "7.5", "openai_timeout_seconds", 7.5),
    ("OPENAI_MAX_RETRIES", "0", "openai_max_retries", 0),
    ("OPENAI_RESPONSE_FORMAT", "json_object", "openai_response_format", "json_object"),
    ("OPENAI_MAX_OUTPUT_TOKENS", "1000", "openai_max_output_tokens", 1000),
    ("DOCUMENTS_EMBEDDINGS", "ON", "documents_embeddings", "on"),
    ("DOCUMENTS_LEASE_SECONDS", "30", "documents_lease_seconds", 30.0),
    ("GENERATION_MAX_ATTEMPTS", "3", "generation_max_attempts", 3),
    ("EVENT_MAX_AGE_SECONDS", "60", "event_max_age_seconds", 60.0),
    ("STRIPE_API_BASE", "http://127.0.0.1:8420", "stripe_api_base", "http://127.0.0.1:8420"),
    ("FCM_API_BASE", "http://127.0.0.1:8430", "fcm_api_base", "http://127.0.0.1:8430"),
    (
        "SCHEDULER_SERVICE_ACCOUNT",
        "s@p.iam.gserviceaccount.com",
        "scheduler_service_account",
        "s@p.iam.gserviceaccount.com",
    ),
    (
        "SEND_REMINDERS_URL",
        "https://send-reminders-1.europe-west1.run.app",
        "send_reminders_url",
        "https://send-reminders-1.europe-west1.run.app",
    ),
    ("STRIPE_TIMEOUT_SECONDS", "4", "stripe_timeout_seconds", 4.0),
    ("STRIPE_MAX_NETWORK_RETRIES", "0", "stripe_max_network_retries", 0),
    ("STRIPE_PRICE_PRO", "price_1", "stripe_prices", {"STRIPE_PRICE_PRO": "price_1"}),
    ("BILLING_RETURN_ORIGINS", "http://a.test:5173/, https://App.Test", "billing_return_origins", ORIGINS),
    ("BILLING_GRACE_DAYS", "3.5", "billing_grace_days", 3.5),
    ("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9023", "storage_emulator_host", "http://127.0.0.1:9023"),
    ("CLOUD_TASKS_EMULATOR_HOST", "127.0.0.1:8123", "tasks_emulator_host", "127.0.0.1:8123"),
    ("RUN_GENERATION_URL", "https://rg.test", "run_generation_url", "https://rg.test"),
    ("RUN_GENERATION_AUDIENCE", "https://aud.test", "run_generation_audience", "https://aud.test"),
    ("ACCOUNT_JOBS_URL", "https://jobs.test", "account_jobs_url", "https://jobs.test"),
    ("GATEWAY_URL", "http://127.0.0.1:8000", "gateway_url", "http://127.0.0.1:8000"),
    ("TASKS_SERVICE_ACCOUNT", "t@x.test", "tasks_service_account", "t@x.test"),
    ("TASKS_AUTH_SECRET", "s3cret", "tasks_auth_secret", "s3cret"),
]

DEFAULTS: dict[str, Any] = {
    "project": "demo-aksio",
    "region": "us-central1",
    "upload_bucket": "aksio-uploads",
    "tasks_queue": "ai-jobs",
    "tasks_location": "us-central1",
    "cors_origins": ("http://localhost:5173", "http://127.0.0.1:5173"),
    "max_body_bytes": 1024 * 1024,
    "firestore_database": "(default)",
    "ai_provider": None,
    "openai_base_url": None,
    "openai_model": "gpt-4o-mini",
    "openai_embedding_model": "text-embedding-3-small",
    "openai_timeout_seconds": 30.0,
    "openai_max_retries": 1,
    "openai_response_format": "json_schema",
    "openai_max_output_tokens": 4096,
    "documents_embeddings": "auto",
    "documents_lease_seconds": 120.0,
    "generation_max_attempts": 5,
    "event_max_age_seconds": 3600.0,
    "stripe_api_base": None,
    "fcm_api_base": "https://fcm.googleapis.com",
    "scheduler_service_account": None,
    "send_reminders_url": None,
    "stripe_timeout_seconds": STRIPE_TIMEOUT_S,
    "stripe_max_network_retries": 1,
    "stripe_prices": {},
    "billing_return_origins": (),
    "billing_grace_days": 7.0,
    "storage_emulator_host": None,
    "tasks_emulator_host": None,
    "run_generation_url": None,
    "run_generation_audience": None,
    "account_jobs_url": None,
    "gateway_url": None,
    "tasks_service_account": None,
    "tasks_auth_secret": None,
}

EMULATORS = [
    "FIRESTORE_EMULATOR_HOST",
    "FIREBASE_AUTH_EMULATOR_HOST",
    "STORAGE_EMULATOR_HOST",
    "FIREBASE_STORAGE_EMULATOR_HOST",
    "CLOUD_TASKS_EMULATOR_HOST",
    "PUBSUB_EMULATOR_HOST",
    "DATASTORE_EMULATOR_HOST",
    "BIGTABLE_EMULATOR_HOST",
]


def test_every_field_is_covered() -> None:
    fields = set(Config.__dataclass_fields__)
    assert set(DEFAULTS) == fields
    assert {f for _, _, f, _ in SETTINGS} == fields


def test_defaults() -> None:
    cfg = load({})
    assert {name: getattr(cfg, name) for name in DEFAULTS} == DEFAULTS
    assert not cfg.is_production
    assert Config().stripe_timeout_seconds == STRIPE_TIMEOUT_S  # the class default agrees


@pytest.mark.parametrize(("variable", "value", "name", "expected"), SETTINGS, ids=[s[0] for s in SETTINGS])
def test_each_setting_is_read_from_its_variable(variable: str, value: str, name: str, expected: Any) -> None:
    cfg = load({variable: value})
    assert getattr(cfg, name) == expected
    others = {f: getattr(cfg, f) for f in DEFAULTS if f != name}
    assert others == {f: v for f, v in DEFAULTS.items() if f != name}  # and nothing else moved


def test_blank_means_unset_and_the_region_falls_back() -> None:
    cfg = load({"OPENAI_MODEL": " ", "GENERATION_MAX_ATTEMPTS": "", "REGION": "asia-east1"})
    assert (cfg.openai_model, cfg.generation_max_attempts, cfg.region) == ("gpt-4o-mini", 5, "asia-east1")
    assert load({"CORS_ORIGINS": ""}).cors_origins == ()  # set but empty: no origin at all


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GENERATION_MAX_ATTEMPTS", "five"),
        ("GENERATION_MAX_ATTEMPTS", "0"),
        ("OPENAI_TIMEOUT_SECONDS", "0"),
        ("MAX_BODY_BYTES", "1.5"),
        ("AI_PROVIDER", "anthropic"),
        ("DOCUMENTS_EMBEDDINGS", "sometimes"),
        ("OPENAI_RESPONSE_FORMAT", "yaml"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load({variable: value})


def test_production_is_decided_by_the_project() -> None:
    assert not load({"GOOGLE_CLOUD_PROJECT": "demo-aksio"}).is_production
    assert load({"GOOGLE_CLOUD_PROJECT": PROD}).is_production
    assert load({"GCLOUD_PROJECT": PROD}).is_production
    assert load({"GOOGLE_CLOUD_PROJECT": "demo-aksio", "GCLOUD_PROJECT": PROD}).project == "demo-aksio"
    # no flag makes production look local
    assert load({"GOOGLE_CLOUD_PROJECT": PROD, "AKSIO_ENV": "local"}).is_production
    # unset: the local default, except on Cloud Run, where the project must be named
    assert load({}).project == "demo-aksio"
    with pytest.raises(ConfigError, match="GOOGLE_CLOUD_PROJECT"):
        load({"K_SERVICE": "decks"})


@pytest.mark.parametrize("variable", EMULATORS)
def test_production_refuses_every_emulator_variable(variable: str) -> None:
    with pytest.raises(ConfigError, match=variable) as err:
        load({"GOOGLE_CLOUD_PROJECT": PROD, variable: "127.0.0.1:9"})
    assert PROD in str(err.value)
    with pytest.raises(ConfigError, match=variable):
        load({"GOOGLE_CLOUD_PROJECT": PROD, variable: ""})  # set at all
    assert not load({"GOOGLE_CLOUD_PROJECT": "demo-aksio", variable: "127.0.0.1:9"}).is_production


def test_the_error_names_every_emulator_variable_set() -> None:
    env = {"GOOGLE_CLOUD_PROJECT": PROD, "FIRESTORE_EMULATOR_HOST": "a:1", "FIREBASE_AUTH_EMULATOR_HOST": "b:2"}
    assert emulator_variables(env) == ["FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"]
    with pytest.raises(ConfigError, match="FIREBASE_AUTH_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST"):
        load(env)


def test_production_ignores_the_local_task_secret() -> None:
    assert load({"GOOGLE_CLOUD_PROJECT": PROD, "TASKS_AUTH_SECRET": "s3cret"}).tasks_auth_secret is None
    assert "s3cret" not in repr(load({"TASKS_AUTH_SECRET": "s3cret"}))


def test_get_config_reads_the_environment_once_until_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENERATION_MAX_ATTEMPTS", "7")
    reset_clients()
    assert get_config().generation_max_attempts == 7
    monkeypatch.setenv("GENERATION_MAX_ATTEMPTS", "8")
    assert get_config() is get_config()
    assert get_config().generation_max_attempts == 7
    reset_clients()
    assert get_config().generation_max_attempts == 8


def test_the_stripe_client_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from aksio.billing import stripe_api

    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_config")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")
    monkeypatch.setattr(stripe_api, "_client", None)
    reset_clients()
    requestor = stripe_api.client()._requestor  # the library's own objects: what it will use
    assert requestor._client._timeout == STRIPE_TIMEOUT_S
    assert requestor._options.max_network_retries == 1
    assert requestor._options.base_addresses["api"] == "http://127.0.0.1:9"
    monkeypatch.setenv("STRIPE_TIMEOUT_SECONDS", "2.5")
    reset_clients()
    assert stripe_api.client()._requestor._client._timeout == 2.5  # a new setting, a new client


# -- the AI provider -------------------------------------------------------------------------


@dataclass
class AiEnv:
    env: pytest.MonkeyPatch
    secret_manager_asked: list[str] = field(default_factory=list)

    def set(self, **values: str) -> None:
        for name, value in values.items():
            self.env.setenv(name, value)
        reset_clients()
        reset_provider()


@pytest.fixture
def ai(monkeypatch: pytest.MonkeyPatch) -> Iterator[AiEnv]:
    """A clean AI environment; Secret Manager answers "no such secret" (no I/O)."""
    for name in ("OPENAI_API_KEY", "AI_PROVIDER", "OPENAI_MODEL", "DOCUMENTS_EMBEDDINGS", "AKSIO_ENV"):
        monkeypatch.delenv(name, raising=False)
    for name in emulator_variables(os.environ):
        monkeypatch.delenv(name)
    state = AiEnv(monkeypatch)
    monkeypatch.setattr(secrets, "_cache", {})
    monkeypatch.setattr(secrets, "_from_secret_manager", state.secret_manager_asked.append)
    state.set(GOOGLE_CLOUD_PROJECT="demo-aksio")
    yield state
    reset_provider()
    reset_clients()


def test_production_without_a_key_is_ai_unavailable(ai: AiEnv) -> None:
    ai.set(GOOGLE_CLOUD_PROJECT=PROD)
    with pytest.raises(errors.Unavailable) as err:
        get_provider()
    assert err.value.code == "ai_unavailable"
    assert edge.status_of(err.value) == 503
    assert ai.secret_manager_asked == ["OPENAI_API_KEY"]  # looked for where production keeps it
    with pytest.raises(errors.Unavailable):  # not remembered as "offline": asked again
        get_provider()


def test_production_with_the_offline_provider_chosen(ai: AiEnv) -> None:
    ai.set(GOOGLE_CLOUD_PROJECT=PROD, AI_PROVIDER="offline")
    assert get_provider().name == "offline"
    assert ai.secret_manager_asked == []


def test_a_key_gives_openai_with_the_configured_deadlines(ai: AiEnv) -> None:
    ai.set(GOOGLE_CLOUD_PROJECT=PROD, OPENAI_API_KEY="sk-test", OPENAI_MODEL="m1")
    provider: Any = get_provider()
    assert provider.name == "openai"
    s = provider.settings
    assert (s.api_key, s.model, s.timeout_seconds, s.max_retries) == ("sk-test", "m1", 30.0, 1)
    # the worst case of one model call stays well inside chat-reply's 120 s timeout
    assert s.timeout_seconds * (s.max_retries + 1) <= 120 / 2
    assert ai.secret_manager_asked == []


def test_locally_no_key_is_offline_unless_openai_is_asked_for(ai: AiEnv) -> None:
    assert get_provider().name == "offline"
    ai.set(AI_PROVIDER="openai")
    with pytest.raises(errors.Unavailable) as err:
        get_provider()
    assert err.value.code == "ai_unavailable"
    assert ai.secret_manager_asked == []  # outside production, secrets come from the environment only


def test_embeddings_without_ai_go_lexical_in_auto_and_fail_when_required(ai: AiEnv) -> None:
    from aksio.documents import embeddings

    ai.set(GOOGLE_CLOUD_PROJECT=PROD)
    assert embeddings.provider() is None
    ai.set(DOCUMENTS_EMBEDDINGS="on")
    with pytest.raises(errors.Unavailable):
        embeddings.provider()
    ai.set(DOCUMENTS_EMBEDDINGS="off")
    assert embeddings.provider() is None


# -- one module reads the environment ---------------------------------------------------------

ENV_READ = re.compile(r"\bos\.environ\b|\bgetenv\b|\bfrom os import\b[^\n]*\benviron\b")


def test_no_module_but_config_reads_the_environment() -> None:
    package = ROOT / "lib" / "aksio"
    readers = {
        p.relative_to(package).as_posix()
        for p in package.rglob("*.py")
        if p != package / "config.py" and ENV_READ.search(p.read_text())
    }
    assert readers == set(), "read settings through aksio.config.get_config()"
    assert ENV_READ.search((package / "config.py").read_text())  # the pattern does find a read


# -- a function refuses to start ---------------------------------------------------------------

START = """
import functions_framework
functions_framework.create_app(target={target!r}, source={source!r}, signature_type={signature!r})
print("started")
"""


def _start(function: str, signature: str, **env: str) -> subprocess.CompletedProcess[str]:
    code = START.format(
        target=function.replace("-", "_"),
        source=str(ROOT / "functions" / function / "main.py"),
        signature=signature,
    )
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, "-c", code], env=base | env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("function", "signature", "variable"),
    [
        ("decks", "http", "FIREBASE_AUTH_EMULATOR_HOST"),
        ("process-upload", "cloudevent", "STORAGE_EMULATOR_HOST"),
    ],
)
def test_a_function_refuses_to_start_in_production_with_an_emulator(
    function: str, signature: str, variable: str
) -> None:
    result = _start(function, signature, GOOGLE_CLOUD_PROJECT=PROD, **{variable: "127.0.0.1:9099"})
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "ConfigError" in result.stderr
    assert variable in result.stderr


def test_the_same_function_starts_with_a_demo_project() -> None:
    result = _start("decks", "http", GOOGLE_CLOUD_PROJECT="demo-aksio", FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "started" in result.stdout
