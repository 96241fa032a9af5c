"""Configuration: every environment variable the package reads is read here, once per instance.

:func:`get_config` parses the environment into a frozen :class:`Config` (cached; tests that
change the environment call :func:`aksio.clients.reset_clients`). A value that does not
parse is a :class:`ConfigError` naming the variable. Secret values are not fields: they are
read through :func:`aksio.secrets.get_secret`, which asks :func:`env_value` first.

Production is decided by the project, never by a flag: every project whose id does not
start with ``demo-`` (the prefix the Firebase emulators reserve for projects that cannot
reach real resources; the local stack and the tests use ``demo-aksio``) is production. In
production the configuration refuses to load while any ``*_EMULATOR_HOST`` variable is set
(firebase-admin would accept unsigned ID tokens; the clients would talk to whatever host is
named), and on Cloud Run (``K_SERVICE`` set) a missing project id is refused too. The
package root (:mod:`aksio`) loads the configuration on import, so such a function fails to
start instead of serving.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeVar

DEMO_PREFIX = "demo-"
EMULATOR_SUFFIX = "_EMULATOR_HOST"
AI_PROVIDERS = ("openai", "offline")
EMBEDDINGS_MODES = ("auto", "on", "off")
RESPONSE_FORMATS = ("json_schema", "json_object", "none")
PRICE_PREFIX = "STRIPE_PRICE_"
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
LOCAL_CORS = "http://localhost:5173,http://127.0.0.1:5173"
N = TypeVar("N", int, float)


class ConfigError(RuntimeError):
    """The environment is not a configuration this code may run with."""


def is_production_project(project: str) -> bool:
    return not project.startswith(DEMO_PREFIX)


# *_URL variables that are not a function's URL (or that have a field of their own)
OTHER_URLS = (
    "GATEWAY_URL",
    "SCHEDULER_URL",
    "OPENAI_BASE_URL",
    "SEND_REMINDERS_URL",
    "RUN_GENERATION_URL",
    "TASKS_OIDC_CERTS_URL",
)


@dataclass(frozen=True)
class Config:
    project: str = "demo-aksio"
    region: str = "us-central1"
    upload_bucket: str = "aksio-uploads"
    tasks_queue: str = "ai-jobs"
    tasks_location: str = "us-central1"
    # Origins allowed to call the HTTPS functions from a browser ("*" allows any).
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    max_body_bytes: int = 1024 * 1024
    firestore_database: str = "(default)"

    # AI: "openai", "offline", or None (openai when OPENAI_API_KEY is configured; else
    # offline, except in production, where AI routes answer 503 ai_unavailable).
    ai_provider: str | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_embedding_model: str = "text-embedding-3-small"
    # Per model request, and the client's own retries: well inside the functions' timeouts
    # (chat-reply 120 s, process-upload 300 s, run-generation 600 s).
    openai_timeout_seconds: float = 30.0
    openai_max_retries: int = 1
    openai_response_format: str = "json_schema"
    openai_max_output_tokens: int = 4096
    # The tutor's answer length (max_tokens of each chat completion).
    chat_max_output_tokens: int = 1024
    # The operator's switch: AI_DISABLED=1 turns every model and embedding call off (the AI
    # routes answer 503 ai_disabled; documents are indexed lexically).
    ai_disabled: bool = False
    # AI and upload routes need a verified email (REQUIRE_VERIFIED_EMAIL; on in production).
    require_verified_email: bool = False
    # How long a user's disabled/revoked state is trusted on the routes that spend money.
    revocation_cache_seconds: float = 60.0
    documents_embeddings: str = "auto"  # auto | on | off
    documents_lease_seconds: float = 120.0
    generation_max_attempts: int = 5
    event_max_age_seconds: float = 3600.0

    # Billing.
    stripe_api_base: str | None = None
    # Firebase Cloud Messaging (HTTP v1): Google's endpoint unless a local server is named.
    fcm_api_base: str = "https://fcm.googleapis.com"
    stripe_timeout_seconds: float = 8.0  # load() takes it from aksio.deadlines.STRIPE_TIMEOUT_S
    stripe_max_network_retries: int = 1
    # Stripe price ids by the variable naming them (``STRIPE_PRICE_PRO``: see aksio.plans).
    stripe_prices: Mapping[str, str] = field(default_factory=dict)
    billing_return_origins: tuple[str, ...] = field(default_factory=tuple)
    billing_grace_days: float = 7.0

    # Emulators our own code talks to (the client libraries read the others themselves).
    storage_emulator_host: str | None = None
    tasks_emulator_host: str | None = None
    # The local stack's upload signer (a service-account key file; emulator only, see
    # aksio.documents.signing): the storage front checks signed URLs with its public key.
    storage_signer_key_file: str | None = None

    # Generation tasks (see aksio.tasks).
    run_generation_url: str | None = None
    run_generation_audience: str | None = None
    # Account jobs (deletion, export) run by the account-jobs function (see aksio.tasks).
    # Scheduled functions (send-reminders): the scheduler's OIDC identity and the target URL.
    scheduler_service_account: str | None = None
    send_reminders_url: str | None = None
    gateway_url: str | None = None
    # The URL of each function a task or job is sent to, by function name: terraform sets
    # <NAME>_URL (e.g. OPTIMIZE_FSRS_URL) on the functions that call it and on itself.
    function_urls: dict[str, str] = field(default_factory=dict)
    tasks_service_account: str | None = None
    # Where the OIDC certificates of task tokens come from: Google's (production); locally the
    # stack's Tasks emulator serves its own. Production ignores the variable.
    tasks_oidc_certs_url: str = GOOGLE_CERTS_URL
    # The local stack's shared task secret; never set in production (OIDC only there).
    tasks_auth_secret: str | None = field(default=None, repr=False)

    @property
    def is_production(self) -> bool:
        return is_production_project(self.project)


def env_value(name: str) -> str | None:
    """The raw value of one environment variable (for :mod:`aksio.secrets`)."""
    return os.environ.get(name)


def emulator_variables(env: Mapping[str, str]) -> list[str]:
    """The ``*_EMULATOR_HOST`` variables set in ``env``."""
    return sorted(name for name in env if name.upper().endswith(EMULATOR_SUFFIX))


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _str(env: Mapping[str, str], name: str) -> str | None:
    """The variable's value, None when unset or blank."""
    value = env.get(name, "").strip()
    return value or None


def _num(env: Mapping[str, str], name: str, default: N, cast: Callable[[str], N], minimum: N) -> N:
    raw = _str(env, name)
    if raw is None:
        return default
    try:
        value = cast(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str | None:
    raw = _str(env, name)
    if raw is None:
        return None
    value = raw.lower()
    if value not in choices:
        raise ConfigError(f"{name}={raw!r} must be one of {', '.join(choices)}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _str(env, name)
    if raw is None:
        return default
    value = raw.lower()
    if value in ("1", "true", "on", "yes"):
        return True
    if value in ("0", "false", "off", "no"):
        return False
    raise ConfigError(f"{name}={raw!r} must be on or off")


def _project(env: Mapping[str, str]) -> str:
    project = _str(env, "GOOGLE_CLOUD_PROJECT") or _str(env, "GCLOUD_PROJECT")
    if project:
        return project
    if _str(env, "K_SERVICE"):
        raise ConfigError("GOOGLE_CLOUD_PROJECT is not set: on Cloud Run the project must be named")
    return "demo-aksio"


def load(env: Mapping[str, str]) -> Config:
    """The configuration of ``env``; :class:`ConfigError` when production would be unsafe."""
    from aksio.deadlines import STRIPE_TIMEOUT_S  # here, not above: no import cycle ever

    project = _project(env)
    production = is_production_project(project)
    if production and (emulators := emulator_variables(env)):
        raise ConfigError(
            f"refusing to start: project {project!r} is production (not {DEMO_PREFIX}*) and "
            f"emulator variables are set: {', '.join(emulators)}; unset them"
        )
    origins = tuple(o.rstrip("/").lower() for o in _csv(env.get("BILLING_RETURN_ORIGINS")))
    # Production checks task tokens against Google's certificates only, whatever is set.
    certs_url = GOOGLE_CERTS_URL if production else (_str(env, "TASKS_OIDC_CERTS_URL") or GOOGLE_CERTS_URL)
    return Config(
        project=project,
        region=_str(env, "FUNCTION_REGION") or _str(env, "REGION") or "us-central1",
        upload_bucket=_str(env, "UPLOAD_BUCKET") or "aksio-uploads",
        tasks_queue=_str(env, "TASKS_QUEUE") or "ai-jobs",
        tasks_location=_str(env, "TASKS_LOCATION") or "us-central1",
        cors_origins=_csv(env.get("CORS_ORIGINS", LOCAL_CORS)),
        max_body_bytes=_num(env, "MAX_BODY_BYTES", 1024 * 1024, int, 1),
        firestore_database=_str(env, "FIRESTORE_DATABASE") or "(default)",
        ai_provider=_choice(env, "AI_PROVIDER", AI_PROVIDERS),
        openai_base_url=_str(env, "OPENAI_BASE_URL"),
        openai_model=_str(env, "OPENAI_MODEL") or "gpt-4o-mini",
        openai_embedding_model=_str(env, "OPENAI_EMBEDDING_MODEL") or "text-embedding-3-small",
        openai_timeout_seconds=_num(env, "OPENAI_TIMEOUT_SECONDS", 30.0, float, 0.1),
        openai_max_retries=_num(env, "OPENAI_MAX_RETRIES", 1, int, 0),
        openai_response_format=_choice(env, "OPENAI_RESPONSE_FORMAT", RESPONSE_FORMATS) or "json_schema",
        openai_max_output_tokens=_num(env, "OPENAI_MAX_OUTPUT_TOKENS", 4096, int, 1),
        chat_max_output_tokens=_num(env, "CHAT_MAX_OUTPUT_TOKENS", 1024, int, 1),
        ai_disabled=_flag(env, "AI_DISABLED", False),
        require_verified_email=_flag(env, "REQUIRE_VERIFIED_EMAIL", production),
        revocation_cache_seconds=_num(env, "REVOCATION_CACHE_SECONDS", 60.0, float, 0.0),
        documents_embeddings=_choice(env, "DOCUMENTS_EMBEDDINGS", EMBEDDINGS_MODES) or "auto",
        documents_lease_seconds=_num(env, "DOCUMENTS_LEASE_SECONDS", 120.0, float, 1.0),
        generation_max_attempts=_num(env, "GENERATION_MAX_ATTEMPTS", 5, int, 1),
        event_max_age_seconds=_num(env, "EVENT_MAX_AGE_SECONDS", 3600.0, float, 1.0),
        stripe_api_base=_str(env, "STRIPE_API_BASE"),
        fcm_api_base=_str(env, "FCM_API_BASE") or "https://fcm.googleapis.com",
        stripe_timeout_seconds=_num(env, "STRIPE_TIMEOUT_SECONDS", STRIPE_TIMEOUT_S, float, 0.1),
        stripe_max_network_retries=_num(env, "STRIPE_MAX_NETWORK_RETRIES", 1, int, 0),
        stripe_prices={k: v.strip() for k, v in env.items() if k.startswith(PRICE_PREFIX) and v.strip()},
        billing_return_origins=origins,
        billing_grace_days=_num(env, "BILLING_GRACE_DAYS", 7.0, float, 0.0),
        storage_emulator_host=_str(env, "STORAGE_EMULATOR_HOST"),
        tasks_emulator_host=_str(env, "CLOUD_TASKS_EMULATOR_HOST"),
        storage_signer_key_file=None if production else _str(env, "STORAGE_SIGNER_KEY_FILE"),
        run_generation_url=_str(env, "RUN_GENERATION_URL"),
        run_generation_audience=_str(env, "RUN_GENERATION_AUDIENCE"),
        function_urls={
            k[: -len("_URL")].lower().replace("_", "-"): v.strip()
            for k, v in env.items()
            if k.endswith("_URL") and k[:1].isalpha() and v.strip() and k not in OTHER_URLS
        },
        scheduler_service_account=_str(env, "SCHEDULER_SERVICE_ACCOUNT"),
        send_reminders_url=_str(env, "SEND_REMINDERS_URL"),
        gateway_url=_str(env, "GATEWAY_URL"),
        tasks_service_account=_str(env, "TASKS_SERVICE_ACCOUNT"),
        tasks_oidc_certs_url=certs_url,
        tasks_auth_secret=None if production else _str(env, "TASKS_AUTH_SECRET"),
    )


@lru_cache(maxsize=1)
def get_config() -> Config:
    """This instance's configuration (see :func:`load`)."""
    return load(os.environ)
