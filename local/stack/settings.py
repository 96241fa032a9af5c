"""What the stack is made of and where it runs: names, ports, paths and timeouts.

Constants describe the components; :class:`Settings` reads what may change from the
environment (the ``AKSIO_*`` variables documented in the package docstring).
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import StackError

PACKAGE = Path(__file__).resolve().parent  # runnable: ``python local/stack ...``
LOCAL = PACKAGE.parent
ROOT = LOCAL.parent
HOST = "127.0.0.1"
PROJECT = "demo-aksio"
BUCKET = "aksio-uploads"
TASKS_QUEUE = "ai-jobs"
TASKS_LOCATION = "us-central1"
# The account whose OIDC identity task calls carry (terraform: the tasks-invoker account), and
# the queue's retry configuration: terraform's shape (max_doublings 4) with shorter backoffs so
# a retried step comes in seconds; max_attempts is AKSIO_TASKS_MAX_RETRIES + 1.
TASKS_SERVICE_ACCOUNT = f"tasks-invoker@{PROJECT}.iam.gserviceaccount.com"
TASKS_RETRY = "min_backoff=0.1,max_backoff=2,max_doublings=4"
# The scheduler's jobs, as Cloud Scheduler has them (terraform/modules/scheduler): name, period in
# minutes, path on the gateway. Locally a job authenticates with a shared secret
# (TASKS_AUTH_SECRET) instead of an OIDC token (task calls carry real ones, see tasks_emulator).
SCHEDULER_JOBS = (("send-reminders", 15, "/send-reminders"), ("refit-fsrs", 1440, "/refit-fsrs"))
SCHEDULER_SECRET_HEADER = "X-Aksio-Task-Secret"  # noqa: S105 - a header name, not a secret
# Retries of a failed run: as terraform's (3), with shorter backoffs (1 s doubling, at most 8 s)
# so a test's /_test/run answers in seconds; a 404 (no such function yet) is not retried.
SCHEDULER_RETRY = "retries=3,min_backoff=1,max_backoff=8,no_retry=404"

COMPONENTS = ("firestore", "auth", "storage", "tasks", "stripe", "fcm", "gateway", "bridge", "scheduler")
DEFAULT_PORTS = {
    "firestore": 8080,
    "auth": 9099,
    "storage": 9023,
    "tasks": 8123,
    "tasks_certs": 8124,  # the Tasks emulator's OIDC certificates (HTTP)
    "stripe": 8420,
    "fcm": 8430,
    "gateway": 8000,
    "scheduler": 8440,
}
# Started together first (independent emulators), then the gateway, then its callers.
PHASES = (("firestore", "auth", "storage", "tasks", "stripe", "fcm"), ("gateway",), ("bridge", "scheduler"))
DEPENDS = {"bridge": ("storage",)}
# Variables the stack sets for clients; scrubbed from the emulators' own environment so an
# emulator never mistakes a variable meant for clients for one meant for itself.
CLIENT_VARS = (
    "FIRESTORE_EMULATOR_HOST",
    "FIREBASE_AUTH_EMULATOR_HOST",
    "STORAGE_EMULATOR_HOST",
    "CLOUD_TASKS_EMULATOR_HOST",
    "STRIPE_API_BASE",
    "FCM_API_BASE",
    "GATEWAY_URL",
    "SCHEDULER_URL",
)

OPENAI_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "OPENAI_EMBEDDING_MODEL", "AI_PROVIDER")

# Local billing settings (overridable from the environment): localstripe accepts any sk_test_
# key; two webhook secrets, as during a rotation, are both accepted.
LOCAL_BILLING_ENV = {
    "STRIPE_SECRET_KEY": "sk_test_aksio_local",
    "STRIPE_WEBHOOK_SECRET": "whsec_aksio_local_1,whsec_aksio_local_2",
    "STRIPE_PRICE_PRO": "price_aksio_pro_local",
}
# The web app's origins besides the gateway's own (which serves web/): a dev server of web/.
# The stack's BILLING_RETURN_ORIGINS (unless set) and the upload bucket's CORS origins are
# these and the gateway's (Settings.web_origins).
DEV_WEB_ORIGINS = ("http://localhost:5173", "http://127.0.0.1:5173")
# The upload bucket's CORS rule, read by terraform (modules/storage) and the local storage.
CORS_RULE = ROOT / "terraform" / "modules" / "storage" / "cors.json"


@dataclass
class Settings:
    """Where things are and which ports they use, read from the environment."""

    local_dir: Path
    ports: dict[str, int]
    python: str
    firebase_bin: Path
    tasks_max_retries: int
    start_timeout: float
    auth_start_timeout: float
    scheduler_clock: bool = True  # the scheduler calls its jobs at their slots (else /_test/run only)
    # The index file the Firestore emulator enforces (queries production could not serve are refused);
    # AKSIO_FIRESTORE_INDEXES=off serves every query, a path enforces another file.
    firestore_indexes: Path | None = ROOT / "terraform" / "firestore.indexes.json"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, *, free_ports: bool = False) -> Settings:
        env = dict(os.environ if env is None else env)
        ports: dict[str, int] = {}
        for name, default in DEFAULT_PORTS.items():
            var = port_var(name)
            if env.get(var):
                try:
                    ports[name] = int(env[var])
                except ValueError:
                    raise StackError(name, f"{var}={env[var]!r} is not a port number") from None
                if not 0 < ports[name] < 65536:
                    raise StackError(name, f"{var}={env[var]!r} is not a port number")
            else:
                ports[name] = free_port() if free_ports else default
        venv_python = ROOT / ".venv" / "bin" / "python"
        python = env.get("AKSIO_PYTHON") or (str(venv_python) if venv_python.exists() else sys.executable)
        return cls(
            local_dir=Path(env.get("AKSIO_LOCAL_DIR", ROOT / ".local")).resolve(),
            ports=ports,
            python=python,
            firebase_bin=LOCAL / "node_modules" / ".bin" / "firebase",
            tasks_max_retries=int(env.get("AKSIO_TASKS_MAX_RETRIES", "5")),
            start_timeout=float(env.get("AKSIO_START_TIMEOUT", "60")),
            auth_start_timeout=float(env.get("AKSIO_AUTH_START_TIMEOUT", "120")),
            scheduler_clock=env.get("AKSIO_SCHEDULER_CLOCK", "on").strip().lower() not in ("off", "0", "false", "no"),
            firestore_indexes=_indexes_file(env.get("AKSIO_FIRESTORE_INDEXES", "")),
        )

    @property
    def tasks_retry(self) -> str:
        return f"{TASKS_RETRY},max_attempts={self.tasks_max_retries + 1}"

    @property
    def logs(self) -> Path:
        return self.local_dir / "logs"

    @property
    def data(self) -> Path:
        return self.local_dir / "data"

    @property
    def web_origins(self) -> tuple[str, ...]:
        port = self.ports["gateway"]
        return (f"http://localhost:{port}", f"http://{HOST}:{port}", *DEV_WEB_ORIGINS)

    def url(self, name: str) -> str:
        return f"http://{HOST}:{self.ports[name]}"


def _indexes_file(value: str) -> Path | None:
    value = value.strip()
    if value.lower() in ("off", "0", "false", "no"):
        return None
    return Path(value).resolve() if value else ROOT / "terraform" / "firestore.indexes.json"


def port_var(name: str) -> str:
    return f"AKSIO_{name.upper()}_PORT"


def free_port() -> int:
    """A port nothing listens on now (the usual bind-to-0 race applies, and is acceptable here)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port (or on every interface at that port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        if sock.connect_ex((HOST, port)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR: sockets in TIME_WAIT from a previous run must not count as "in use".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
    return False
