"""The Aksio local stack: every emulator, the gateway and the Storage→Eventarc bridge.

Usage (run with the project's virtualenv; ``make run`` and ``make test`` do)::

    .venv/bin/python local/stack.py run  [--only a,b] [--free-ports] [--ephemeral]
    .venv/bin/python local/stack.py exec [--only a,b] [--free-ports] [--persist] -- CMD ARGS...

``run`` starts the components, prints their URLs, the environment a client needs and a curl
quickstart, and runs until Ctrl-C or SIGTERM; ``exec`` starts them, runs CMD with the stack's
environment, stops them and exits with CMD's exit code. Either way everything the stack
started is stopped when it ends (each component runs in its own process group, which is
terminated, then killed), and a component that exits or is not ready in time stops the whole
stack with a message naming it and the last lines of its log. ``run`` keeps data under
``.local/data`` across restarts (``--ephemeral``: memory only); ``exec`` keeps it in memory
(``--persist``: under ``.local/data``).

Components (all bound to 127.0.0.1; logs in ``.local/logs/<component>.log``):

=========  ==========================  =====  ==============================================
component  what                        port   variables set for clients
=========  ==========================  =====  ==============================================
firestore  local/firestore_emulator    8080   FIRESTORE_EMULATOR_HOST=127.0.0.1:8080
auth       firebase-tools Auth emu.    9099   FIREBASE_AUTH_EMULATOR_HOST=127.0.0.1:9099
storage    gcp-storage-emulator        9023   STORAGE_EMULATOR_HOST=http://127.0.0.1:9023,
                                              UPLOAD_BUCKET=aksio-uploads
tasks      gcloud-tasks-emulator       8123   CLOUD_TASKS_EMULATOR_HOST=127.0.0.1:8123,
                                              TASKS_QUEUE=ai-jobs, TASKS_LOCATION=us-central1
stripe     localstripe behind          8420   STRIPE_API_BASE=http://127.0.0.1:8420
           local/stripe_front.py
gateway    local/gateway.py            8000   GATEWAY_URL=http://127.0.0.1:8000
bridge     local/bridge.py             --     (posts to $GATEWAY_URL/process-upload)
=========  ==========================  =====  ==============================================

Every child and ``exec``'s command also get ``GOOGLE_CLOUD_PROJECT`` and ``GCLOUD_PROJECT``
(``demo-aksio``), ``AKSIO_ENV=local`` and ``TASKS_AUTH_SECRET`` (random per stack start
unless already set: the shared secret the local stack uses instead of an OIDC token on task
calls), ``NO_GCE_CHECK=true``, and local billing settings (``STRIPE_SECRET_KEY``,
``STRIPE_WEBHOOK_SECRET`` (two, comma-separated, as during a rotation), ``STRIPE_PRICE_PRO``,
``BILLING_RETURN_ORIGINS``), each overridable from the environment. ``exec``'s command
gets ``AKSIO_STACK=1`` when the whole stack runs (not with ``--only``) and
``AKSIO_STACK_COMPONENTS`` (the started components, comma-separated).

Settings, from the environment:

- ``AKSIO_FIRESTORE_PORT``, ``AKSIO_AUTH_PORT``, ``AKSIO_STORAGE_PORT``, ``AKSIO_TASKS_PORT``,
  ``AKSIO_STRIPE_PORT``, ``AKSIO_GATEWAY_PORT``: the ports above. ``--free-ports`` gives every
  component whose variable is unset a free port instead (to run beside another stack).
- ``AKSIO_LOCAL_DIR`` (default ``<repo>/.local``): where ``logs/``, ``data/`` and
  ``stack.json`` (pid, components, client environment, ``ready``; mode 600) go. An in-memory
  stack started while another one runs in the same directory uses ``stacks/<pid>/`` below it;
  a persistent one refuses to start.
- ``AKSIO_TASKS_VENV`` (default ``<repo>/.local/venvs/tasks``): the Cloud Tasks emulator's
  virtualenv, made by ``local/install.sh``.
- ``AKSIO_TASKS_MAX_RETRIES`` (default 5): attempts after the first before the Tasks emulator
  drops a failing task (it retries at once, without backoff).
- ``AKSIO_START_TIMEOUT`` (default 60) and ``AKSIO_AUTH_START_TIMEOUT`` (default 120): seconds
  a component may take to become ready.

The stripe component is one process (``serve-stripe``): localstripe (customers,
subscriptions, payment methods, plans, invoices...) on a private loopback port, and in front
of it, on the component's port, ``local/stripe_front.py``, which adds what localstripe lacks
in Stripe's wire format (Checkout Sessions, Billing Portal sessions, Prices,
``Idempotency-Key``) and proxies the rest, so ``STRIPE_API_BASE`` is a whole Stripe for the
billing functions. The price ``STRIPE_PRICE_PRO`` is created at start; the front's
``/_test/checkout/{id}/complete`` plays the customer paying. Persistent data:
``data/stripe.pickle`` (localstripe) and ``data/stripe-front.json`` (the front's sessions
and idempotency answers).

Internal subcommands ``serve-tasks`` and ``serve-stripe`` start those two emulators bound to
127.0.0.1 (their own command lines listen on every interface); the stack runs
``serve-tasks`` with the Tasks virtualenv's Python, which is why this file imports nothing
outside the standard library at module level.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "local"
HOST = "127.0.0.1"
PROJECT = "demo-aksio"
BUCKET = "aksio-uploads"
TASKS_QUEUE = "ai-jobs"
TASKS_LOCATION = "us-central1"

COMPONENTS = ("firestore", "auth", "storage", "tasks", "stripe", "gateway", "bridge")
DEFAULT_PORTS = {"firestore": 8080, "auth": 9099, "storage": 9023, "tasks": 8123, "stripe": 8420, "gateway": 8000}
# Started together first (independent emulators), then the gateway, then the bridge.
PHASES = (("firestore", "auth", "storage", "tasks", "stripe"), ("gateway",), ("bridge",))
DEPENDS = {"bridge": ("storage",)}
# Variables the stack sets for clients; scrubbed from the emulators' own environment so an
# emulator never mistakes a variable meant for clients for one meant for itself.
CLIENT_VARS = (
    "FIRESTORE_EMULATOR_HOST",
    "FIREBASE_AUTH_EMULATOR_HOST",
    "STORAGE_EMULATOR_HOST",
    "CLOUD_TASKS_EMULATOR_HOST",
    "STRIPE_API_BASE",
    "GATEWAY_URL",
)

OPENAI_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "OPENAI_EMBEDDING_MODEL")


class StackError(Exception):
    """A component could not be started; ``str()`` names it and says why."""

    def __init__(self, component: str, reason: str, log_tail: str = "") -> None:
        super().__init__(f"{component}: {reason}")
        self.component = component
        self.reason = reason
        self.log_tail = log_tail

    def report(self) -> str:
        text = f"stack: {self.component} failed to start: {self.reason}"
        if self.log_tail:
            text += f"\n--- last lines of the {self.component} log ---\n{self.log_tail}\n---"
        return text


class Interrupted(Exception):
    """A signal asked the stack to stop while it was starting."""


# -- settings --------------------------------------------------------------------------------


@dataclass
class Settings:
    """Where things are and which ports they use, read from the environment."""

    local_dir: Path
    ports: dict[str, int]
    python: str
    tasks_python: Path
    firebase_bin: Path
    tasks_max_retries: int
    start_timeout: float
    auth_start_timeout: float

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
        tasks_venv = Path(env.get("AKSIO_TASKS_VENV", ROOT / ".local" / "venvs" / "tasks"))
        return cls(
            local_dir=Path(env.get("AKSIO_LOCAL_DIR", ROOT / ".local")).resolve(),
            ports=ports,
            python=str(venv_python) if venv_python.exists() else sys.executable,
            tasks_python=tasks_venv / "bin" / "python",
            firebase_bin=LOCAL / "node_modules" / ".bin" / "firebase",
            tasks_max_retries=int(env.get("AKSIO_TASKS_MAX_RETRIES", "5")),
            start_timeout=float(env.get("AKSIO_START_TIMEOUT", "60")),
            auth_start_timeout=float(env.get("AKSIO_AUTH_START_TIMEOUT", "120")),
        )

    @property
    def logs(self) -> Path:
        return self.local_dir / "logs"

    @property
    def data(self) -> Path:
        return self.local_dir / "data"

    def url(self, name: str) -> str:
        return f"http://{HOST}:{self.ports[name]}"


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


# -- readiness probes ------------------------------------------------------------------------


def tcp_ready(port: int) -> Callable[[], bool]:
    def probe() -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            return sock.connect_ex((HOST, port)) == 0

    return probe


def http_ready(url: str, *, need_ok: bool = False) -> Callable[[], bool]:
    """Ready once ``url`` answers HTTP (any status, or 2xx with ``need_ok``)."""

    def probe() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return 200 <= response.status < 300 or not need_ok
        except urllib.error.HTTPError:
            return not need_ok
        except (OSError, ValueError):
            return False

    return probe


def log_contains(path: Path, text: str) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            return text in path.read_text(errors="replace")
        except OSError:
            return False

    return probe


def group_listens(pgid: int, port: int) -> bool | None:
    """Whether a process of group ``pgid`` listens on ``port`` (None where /proc can't tell).

    Guards readiness on a shared machine: a probe answered by someone else's server on a port
    that was free a moment ago must not count as our component being ready.
    """
    inodes: set[str] = set()
    try:
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(FileNotFoundError):
                for line in Path(table).read_text().splitlines()[1:]:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                        inodes.add(f"socket:[{fields[9]}]")
        pids = [p for p in Path("/proc").iterdir() if p.name.isdigit()]
    except OSError:
        return None
    for proc in pids:
        try:
            if int(proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            if any(os.readlink(fd) in inodes for fd in proc.joinpath("fd").iterdir()):
                return True
        except (OSError, ValueError, IndexError):
            continue
    return False


def tail(path: Path, lines: int = 25) -> str:
    try:
        content = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(content.rstrip().splitlines()[-lines:])


# -- components ------------------------------------------------------------------------------


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A pre-exec hook that makes the child get SIGTERM if the stack dies without stopping it.

    Linux only (prctl PR_SET_PDEATHSIG); the C library is loaded here, in the parent, so the
    hook does nothing in the forked child but one system call.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig, sigterm = 1, int(signal.SIGTERM)
    return lambda: prctl(pr_set_pdeathsig, sigterm)


@dataclass
class Component:
    """One process of the stack and how to tell it is ready."""

    name: str
    argv: list[str]
    ready: Callable[[], bool]
    log: Path
    url: str = ""
    client_env: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    port: int | None = None
    timeout: float = 60.0
    stop_timeout: float = 5.0
    requires: tuple[tuple[Path, str], ...] = ()  # files that must exist, with the hint if not
    prepare: Callable[[], object] | None = None  # run just before the process starts
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    def check(self) -> None:
        for path, hint in self.requires:
            if not path.exists():
                raise StackError(self.name, f"{path} is missing: {hint}")

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.cwd.mkdir(parents=True, exist_ok=True)
        if self.prepare is not None:
            self.prepare()
        with self.log.open("wb") as out:
            out.write(f"$ {shlex.join(self.argv)}\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: terminal signals don't reach it
                preexec_fn=_die_with_parent_hook(),  # noqa: PLW1509 - one syscall, no threads here
            )
        self.started_at = time.monotonic()

    def is_ready(self) -> bool:
        """The probe answers, and (where /proc tells) from a socket of this component's own group."""
        if not self.ready():
            return False
        if self.port is None or self.process is None:
            return True
        return group_listens(self.process.pid, self.port) is not False

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def fail(self, reason: str) -> StackError:
        return StackError(self.name, reason, tail(self.log))

    def signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def wait_stopped(self, deadline: float) -> None:
        """Wait for the process until ``deadline`` (monotonic); then kill whatever is left of its group."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"stack: {self.name} did not stop in time; killing it", file=sys.stderr)
        self.signal_group(signal.SIGKILL)  # the leader and anything it left behind
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


def _prepare_auth(port: int, workdir: Path) -> None:
    """Write local/firebase.json with the configured Auth port where the emulator runs.

    The hub and logging ports get free ports too: left unset, the CLI probes 4400/4500 upward
    and, when two stacks start at once, both can pick the same one and one of them dies
    ("EADDRINUSE 127.0.0.1:4501") right after reporting ready.
    """
    config = json.loads((LOCAL / "firebase.json").read_text())
    emulators = config.setdefault("emulators", {})
    emulators.setdefault("auth", {}).update(host=HOST, port=port)
    emulators.setdefault("hub", {}).update(host=HOST, port=free_port())
    emulators.setdefault("logging", {}).update(host=HOST, port=free_port())
    emulators.setdefault("ui", {})["enabled"] = False
    (workdir / "tmp").mkdir(parents=True, exist_ok=True)
    (workdir / "firebase.json").write_text(json.dumps(config, indent=2) + "\n")


INSTALL_HINT = "run `bash local/install.sh` (or `make install`)"


@dataclass
class _Builder:
    """Builds each component's command line and environment from the settings."""

    settings: Settings
    persistent: bool
    base_env: dict[str, str]  # for the emulators: the caller's environment without client variables
    client_env: dict[str, str]  # for the gateway and the bridge: the whole stack's environment

    def _log(self, name: str) -> Path:
        return self.settings.logs / f"{name}.log"

    def _port(self, name: str) -> int:
        return self.settings.ports[name]

    def firestore(self) -> Component:
        s, port = self.settings, self._port("firestore")
        argv = [s.python, "-m", "firestore_emulator", "--host", HOST, "--port", str(port)]
        if self.persistent:
            argv += ["--data", str(s.data / "firestore.sqlite")]
        pythonpath = os.pathsep.join(p for p in (str(LOCAL), self.base_env.get("PYTHONPATH", "")) if p)
        return Component(
            "firestore",
            argv,
            tcp_ready(port),
            self._log("firestore"),
            url=f"{HOST}:{port} (gRPC and REST)",
            client_env={"FIRESTORE_EMULATOR_HOST": f"{HOST}:{port}"},
            env={**self.base_env, "PYTHONPATH": pythonpath},
            cwd=s.local_dir,
            port=port,
            timeout=s.start_timeout,
            requires=((LOCAL / "firestore_emulator" / "__main__.py", "the Firestore emulator package is absent"),),
        )

    def auth(self) -> Component:
        s, port = self.settings, self._port("auth")
        workdir = s.local_dir / "auth"  # firebase-debug.log lands here, not in the repository
        config = workdir / "firebase.json"
        argv = [str(s.firebase_bin), "emulators:start", "--only", "auth", "--project", PROJECT, "--config", str(config)]
        if self.persistent:
            export = s.data / "auth"
            if (export / "firebase-export-metadata.json").exists():
                argv += ["--import", str(export)]
            argv += ["--export-on-exit", str(export)]
        return Component(
            "auth",
            argv,
            http_ready(f"{s.url('auth')}/", need_ok=True),
            self._log("auth"),
            url=s.url("auth"),
            client_env={"FIREBASE_AUTH_EMULATOR_HOST": f"{HOST}:{port}"},
            # CI=true: no message-of-the-day fetch and no prompts; NO_UPDATE_NOTIFIER: no npm check.
            # TMPDIR: the CLI finds "its" emulator hub through $TMPDIR/hub-<project>.json; a private
            # one keeps two stacks on one machine (same demo project) from exporting each other's data.
            env={**self.base_env, "CI": "true", "NO_UPDATE_NOTIFIER": "1", "TMPDIR": str(workdir / "tmp")},
            cwd=workdir,
            port=port,
            timeout=s.auth_start_timeout,
            stop_timeout=20.0 if self.persistent else 5.0,  # exporting the users on exit takes a moment
            requires=((s.firebase_bin, f"firebase-tools is not installed: {INSTALL_HINT}"),),
            prepare=lambda: _prepare_auth(port, workdir),
        )

    def storage(self) -> Component:
        s, port = self.settings, self._port("storage")
        argv = [s.python, "-m", "gcp_storage_emulator", "start", "--host", HOST, "--port", str(port)]
        argv += ["--default-bucket", BUCKET]
        env = dict(self.base_env)
        if self.persistent:
            env["STORAGE_BASE"] = str(s.data / "storage")  # objects go to <STORAGE_BASE>/.cloudstorage
        else:
            argv.append("--in-memory")
        return Component(
            "storage",
            argv,
            http_ready(f"{s.url('storage')}/storage/v1/b/{BUCKET}", need_ok=True),
            self._log("storage"),
            url=s.url("storage"),
            client_env={"STORAGE_EMULATOR_HOST": s.url("storage"), "UPLOAD_BUCKET": BUCKET},
            env=env,
            cwd=s.local_dir,
            port=port,
            timeout=s.start_timeout,
        )

    def tasks(self) -> Component:
        s, port = self.settings, self._port("tasks")
        queue = f"projects/{PROJECT}/locations/{TASKS_LOCATION}/queues/{TASKS_QUEUE}"
        argv = [str(s.tasks_python), "-W", "ignore::FutureWarning", str(Path(__file__).resolve()), "serve-tasks"]
        argv += ["--host", HOST, "--port", str(port), "--queue", queue, "--max-retries", str(s.tasks_max_retries)]
        argv += ["--target-port", str(self._port("gateway"))]
        return Component(
            "tasks",
            argv,
            log_contains(self._log("tasks"), "tasks emulator listening"),
            self._log("tasks"),
            url=f"{HOST}:{port} (gRPC; queue {TASKS_QUEUE})",
            client_env={
                "CLOUD_TASKS_EMULATOR_HOST": f"{HOST}:{port}",
                "TASKS_QUEUE": TASKS_QUEUE,
                "TASKS_LOCATION": TASKS_LOCATION,
            },
            env=self.base_env,
            cwd=s.local_dir,
            port=port,
            timeout=s.start_timeout,
            requires=((s.tasks_python, f"the Cloud Tasks emulator's virtualenv is missing: {INSTALL_HINT}"),),
        )

    def stripe(self) -> Component:
        s, port = self.settings, self._port("stripe")
        argv = [s.python, str(Path(__file__).resolve()), "serve-stripe", "--host", HOST, "--port", str(port)]
        if self.client_env.get("STRIPE_PRICE_PRO"):
            argv += ["--price", self.client_env["STRIPE_PRICE_PRO"]]
        if self.persistent:
            argv += ["--store", str(s.data / "stripe.pickle"), "--front-state", str(s.data / "stripe-front.json")]
        return Component(
            "stripe",
            argv,
            log_contains(self._log("stripe"), "stripe listening on"),
            self._log("stripe"),
            url=s.url("stripe"),
            client_env={"STRIPE_API_BASE": s.url("stripe")},
            env=self.base_env,
            cwd=s.local_dir,
            port=port,
            timeout=s.start_timeout,
        )

    def gateway(self) -> Component:
        s, port = self.settings, self._port("gateway")
        return Component(
            "gateway",
            [s.python, str(LOCAL / "gateway.py"), "--host", HOST, "--port", str(port)],
            http_ready(f"{s.url('gateway')}/health"),
            self._log("gateway"),
            url=s.url("gateway"),
            client_env={"GATEWAY_URL": s.url("gateway")},
            env=self.client_env,
            port=port,
            timeout=s.start_timeout,
            requires=((LOCAL / "gateway.py", "the gateway is absent"),),
        )

    def bridge(self) -> Component:
        s = self.settings
        target = f"{s.url('gateway')}/process-upload"
        argv = [s.python, str(LOCAL / "bridge.py"), "--storage-url", s.url("storage"), "--bucket", BUCKET]
        argv += ["--target", target]
        if self.persistent:
            argv += ["--state", str(s.data / "bridge-state.json")]
        return Component(
            "bridge",
            argv,
            log_contains(self._log("bridge"), "bridge: gs://"),
            self._log("bridge"),
            url=f"gs://{BUCKET} -> /process-upload",
            env=self.client_env,
            timeout=s.start_timeout,
        )


def build_components(
    settings: Settings, names: Sequence[str], *, persistent: bool, common_env: dict[str, str]
) -> dict[str, Component]:
    """The components named, in start order, configured from ``settings`` (nothing is started here)."""
    base = {k: v for k, v in os.environ.items() if k not in CLIENT_VARS}
    base.update(PYTHONUNBUFFERED="1", GOOGLE_CLOUD_PROJECT=PROJECT, GCLOUD_PROJECT=PROJECT)
    client_env = {**base, **common_env}  # completed below, once every component's variables are known
    builder = _Builder(settings, persistent, base, client_env)
    made: dict[str, Component] = {}
    for name in COMPONENTS:
        if name in names:
            made[name] = getattr(builder, name)()
    for component in made.values():
        client_env.update(component.client_env)
    return made


# -- the stack -------------------------------------------------------------------------------


LOCAL_BILLING_ENV = {
    "STRIPE_SECRET_KEY": "sk_test_aksio_local",
    "STRIPE_WEBHOOK_SECRET": "whsec_aksio_local_1,whsec_aksio_local_2",
    "STRIPE_PRICE_PRO": "price_aksio_pro_local",
    "BILLING_RETURN_ORIGINS": "http://localhost:5173,http://127.0.0.1:5173",
}


class Stack:
    """Starts components phase by phase, waits for them, and stops all of them on any failure."""

    def __init__(self, settings: Settings, names: Sequence[str], *, persistent: bool) -> None:
        self.settings = settings
        self.names = [n for n in COMPONENTS if n in names]
        self.full = set(self.names) == set(COMPONENTS)
        self.persistent = persistent
        self.common_env = {
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "GCLOUD_PROJECT": PROJECT,
            "AKSIO_ENV": "local",
            "TASKS_AUTH_SECRET": os.environ.get("TASKS_AUTH_SECRET") or secrets.token_urlsafe(32),
            # Never probe the GCE metadata server from a laptop or CI.
            "NO_GCE_CHECK": "true",
        }
        # Local billing settings (overridable from the environment): localstripe accepts any
        # sk_test_ key; two webhook secrets, as during a rotation, are both accepted.
        for key, default in LOCAL_BILLING_ENV.items():
            self.common_env[key] = os.environ.get(key, default)
        self.components: dict[str, Component] = {}  # built by start(), once the local directory is settled
        self.started: list[Component] = []
        self.stop_requested = threading.Event()
        self._state_written = False

    def client_env(self) -> dict[str, str]:
        """The variables a client of this stack needs (those ``exec`` adds to CMD's environment)."""
        env = dict(self.common_env)
        for component in self.components.values():
            env.update(component.client_env)
        env["AKSIO_STACK_COMPONENTS"] = ",".join(self.names)
        if self.full:
            env["AKSIO_STACK"] = "1"
        return env

    def preflight(self) -> None:
        """Everything that can be checked before starting anything: files present, ports free."""
        for component in self.components.values():
            component.check()
        seen: dict[int, str] = {}
        for component in self.components.values():
            if component.port is None:
                continue
            if component.port in seen:
                raise StackError(component.name, f"port {component.port} is also configured for {seen[component.port]}")
            seen[component.port] = component.name
            if port_in_use(component.port):
                raise StackError(
                    component.name,
                    f"port {component.port} on {HOST} is already in use "
                    f"(stop what uses it, or set {port_var(component.name)} to another port)",
                )

    def _settle_local_dir(self) -> None:
        """Make sure no other live stack writes the same logs and data as this one.

        An in-memory stack beside another one in the same directory (``exec --free-ports`` while
        ``run`` goes on) takes a private ``stacks/<pid>`` below it; a persistent one refuses.
        """
        root = self.settings.local_dir
        for stale in (root / "stacks").glob("*"):
            if stale.name.isdigit() and not _stack_alive(int(stale.name)):
                shutil.rmtree(stale, ignore_errors=True)
        other = _live_stack_pid(root)
        if other is None or other == os.getpid():
            return
        if self.persistent:
            raise StackError(
                "stack", f"another stack (pid {other}) is using {root}: stop it, or set AKSIO_LOCAL_DIR elsewhere"
            )
        self.settings.local_dir = root / "stacks" / str(os.getpid())
        print(
            f"stack: another stack (pid {other}) uses {root}; this one uses {self.settings.local_dir}", file=sys.stderr
        )

    def start(self) -> None:
        """Start every component; on any failure stop what was started and raise StackError."""
        self._settle_local_dir()
        self.components = build_components(
            self.settings, self.names, persistent=self.persistent, common_env=self.common_env
        )
        try:
            self.preflight()
            self._write_state(ready=False)  # claims the directory while the stack starts
            self.settings.logs.mkdir(parents=True, exist_ok=True)
            if self.persistent:
                self.settings.data.mkdir(parents=True, exist_ok=True)
            for phase in PHASES:
                batch = [self.components[n] for n in phase if n in self.components]
                for component in batch:
                    component.start()
                    self.started.append(component)
                self._wait_ready(batch)
            self._write_state(ready=True)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, batch: list[Component]) -> None:
        waiting = list(batch)
        while waiting:
            if self.stop_requested.is_set():
                raise Interrupted
            for component in list(waiting):
                code = component.exited()
                if code is not None:
                    raise component.fail(f"exited with code {code} before it was ready")
                if component.is_ready():
                    waiting.remove(component)
                    elapsed = time.monotonic() - component.started_at
                    print(f"stack: {component.name} ready ({elapsed:.1f} s)", file=sys.stderr, flush=True)
                elif time.monotonic() - component.started_at > component.timeout:
                    raise component.fail(f"not ready after {component.timeout:.0f} s")
            if waiting:
                self.stop_requested.wait(0.2)

    def dead(self) -> Component | None:
        """A started component that has exited, if any."""
        return next((c for c in self.started if c.exited() is not None), None)

    def stop(self) -> None:
        """Stop everything started, newest phase first; bounded in time, never raises."""
        phases = [[c for c in self.started if c.name in phase] for phase in reversed(PHASES)]
        for batch in phases:
            for component in batch:
                component.signal_group(signal.SIGTERM)
            deadline = time.monotonic() + max((c.stop_timeout for c in batch), default=0.0)
            for component in batch:
                component.wait_stopped(deadline)
        self.started.clear()
        if self._state_written:
            with contextlib.suppress(OSError):
                (self.settings.local_dir / "stack.json").unlink()
            self._state_written = False

    def _write_state(self, *, ready: bool) -> None:
        """``.local/stack.json``: what runs and where, for people and tests (removed on stop)."""
        state = {
            "pid": os.getpid(),
            "ready": ready,
            "components": {
                c.name: {"pid": c.process.pid if c.process else None, "port": c.port, "url": c.url, "log": str(c.log)}
                for c in self.started
            },
            "env": self.client_env(),
        }
        path = self.settings.local_dir / "stack.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds TASKS_AUTH_SECRET
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(state, indent=2) + "\n")
        tmp.replace(path)
        self._state_written = True


def _stack_alive(pid: int) -> bool:
    """Whether ``pid`` is a running stack.py (a reused pid is not)."""
    try:
        os.kill(pid, 0)
    except (OSError, OverflowError):
        return False
    try:
        return b"stack.py" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc: trust kill(0)


def _live_stack_pid(local_dir: Path) -> int | None:
    """The pid of a running stack whose stack.json is in ``local_dir``, if any."""
    try:
        pid = int(json.loads((local_dir / "stack.json").read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return pid if _stack_alive(pid) else None


def quickstart(stack: Stack) -> str:
    """What ``run`` prints once everything is ready."""
    settings = stack.settings
    lines = ["", "Aksio local stack is running (Ctrl-C stops it)", ""]
    width = max(len(n) for n in stack.components)
    for name, component in stack.components.items():
        lines.append(f"  {name:<{width}}  {component.url}")
    lines.append(f"\n  logs: {settings.logs}/<component>.log")
    if stack.persistent:
        lines.append(f"  data: {settings.data} (delete it to start afresh)")
    lines += ["", "Environment for a client of this stack:", ""]
    lines += [f"  export {k}={shlex.quote(v)}" for k, v in sorted(stack.client_env().items())]
    if "auth" in stack.components and "gateway" in stack.components:
        auth, gateway = settings.url("auth"), settings.url("gateway")
        lines += [
            "",
            "Quickstart: a user in the Auth emulator, then a call with their ID token:",
            "",
            f"  TOKEN=$(curl -s '{auth}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=any' \\",
            "    -H 'Content-Type: application/json' \\",
            '    -d "{\\"email\\":\\"student-$RANDOM@example.test\\",\\"password\\":\\"secret123\\",'
            '\\"returnSecureToken\\":true}" \\',
            "    | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"idToken\"])')",
            f'  curl -s -H "Authorization: Bearer $TOKEN" {gateway}/health',
        ]
    return "\n".join(lines) + "\n"


# -- commands --------------------------------------------------------------------------------


def _select(only: str | None) -> list[str]:
    if not only:
        return list(COMPONENTS)
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in COMPONENTS]
    if unknown:
        raise SystemExit(f"stack: unknown component(s) {', '.join(unknown)}; known: {', '.join(COMPONENTS)}")
    for name in list(names):
        for dependency in DEPENDS.get(name, ()):
            if dependency not in names:
                print(f"stack: {name} needs {dependency}; starting it too", file=sys.stderr)
                names.append(dependency)
    return names


def _handle_signals(handler: Callable[[int, FrameType | None], Any], *signals: int) -> None:
    for sig in signals:
        signal.signal(sig, handler)


def cmd_run(args: argparse.Namespace) -> int:
    stack = Stack(Settings.from_env(free_ports=args.free_ports), _select(args.only), persistent=not args.ephemeral)
    _handle_signals(lambda *_: stack.stop_requested.set(), signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    try:
        stack.start()
    except StackError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    except Interrupted:
        return 130
    print(quickstart(stack), flush=True)
    try:
        while not stack.stop_requested.wait(0.5):
            dead = stack.dead()
            if dead is not None:
                report = dead.fail(f"exited with code {dead.exited()}").report()
                print(report.replace("failed to start", "stopped"), file=sys.stderr)
                return 1
        print("\nstack: stopping", file=sys.stderr, flush=True)
        return 0
    finally:
        stack.stop()


def cmd_exec(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise SystemExit("stack: exec needs a command after --")
    # Tests and benchmarks run on the offline AI provider, whatever key the shell holds
    # (a real model would make runs slow, costly and flaky); AKSIO_KEEP_OPENAI=1 keeps them.
    if os.environ.get("AKSIO_KEEP_OPENAI") != "1":
        for name in OPENAI_VARS:
            os.environ.pop(name, None)
    stack = Stack(Settings.from_env(free_ports=args.free_ports), _select(args.only), persistent=args.persist)
    child: subprocess.Popen[bytes] | None = None

    def on_signal(sig: int, _frame: FrameType | None) -> None:
        stack.stop_requested.set()
        # SIGINT from a terminal already reached the command (same process group); others are passed on.
        if child is not None and child.poll() is None and sig != signal.SIGINT:
            child.send_signal(sig)

    _handle_signals(on_signal, signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    try:
        stack.start()
    except StackError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    except Interrupted:
        return 130
    try:
        try:
            child = subprocess.Popen(command, env={**os.environ, **stack.client_env()})
        except OSError as exc:
            print(f"stack: cannot run {command[0]}: {exc}", file=sys.stderr)
            return 127
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:  # pragma: no cover - handlers replace SIGINT's default
                continue
        dead = stack.dead()
        if dead is not None:
            print(f"stack: warning: {dead.name} exited (code {dead.exited()}) while the command ran; see {dead.log}")
        return code if code >= 0 else 128 - code
    finally:
        stack.stop()


# -- emulators started by this file ------------------------------------------------------------


def _wait_for_stop_signal() -> None:
    stop = threading.Event()
    _handle_signals(lambda *_: stop.set(), signal.SIGINT, signal.SIGTERM)
    stop.wait()


def cmd_serve_tasks(args: argparse.Namespace) -> int:
    """gcloud-tasks-emulator bound to ``--host`` (its CLI listens on every interface).

    Runs with the Tasks virtualenv's Python. The emulator's HTTP dispatch (urllib) has no
    timeout of its own: a default socket timeout bounds it, as Cloud Tasks' dispatch deadline.
    """
    import logging
    from concurrent.futures import ThreadPoolExecutor

    socket.setdefaulttimeout(args.dispatch_timeout)  # used by urllib; gRPC has its own sockets
    import grpc
    from gcloud_tasks_emulator import server as emulator
    from google.cloud.tasks_v2 import Queue

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    state = emulator.QueueState(args.target_host, args.target_port, args.max_retries)
    for name in args.queue:
        state.create_queue(name.rsplit("/", 2)[0], Queue(name=name))
    server = grpc.server(ThreadPoolExecutor(max_workers=8))
    emulator.add_CloudTasksServicer_to_server(emulator.Greeter(state), server)
    server.add_insecure_port(f"{args.host}:{args.port}")  # raises if the port is taken
    server.start()
    processor = emulator.Processor(state)
    processor.start()
    print(f"tasks emulator listening on {args.host}:{args.port}; queues: {', '.join(args.queue)}", flush=True)
    _wait_for_stop_signal()
    processor.join(timeout=1)
    server.stop(grace=0)
    sys.stdout.flush()
    os._exit(0)  # the emulator's per-queue threads may sit in a dispatch; don't wait for them


def cmd_serve_stripe(args: argparse.Namespace) -> int:
    """The stack's Stripe: localstripe on a private loopback port, ``local/stripe_front.py`` on ``--port``.

    localstripe runs in this process's event loop on a socket bound to ``--host`` port 0, its
    store in ``--store`` (or memory) instead of its shared ``/tmp/localstripe.pickle``. The
    front (Checkout, Billing Portal, Prices, ``Idempotency-Key``; everything else proxied to
    localstripe) serves in threads of this process, keeps its sessions in ``--front-state``
    (or memory), and binds ``--port`` only once localstripe answers and every ``--price``
    exists, so a connection to the port means the whole Stripe is ready.
    """
    import asyncio
    import logging
    import pickle

    from aiohttp import web
    from localstripe import resources
    from localstripe.server import app
    from stripe_front import StripeFront

    store_path: Path | None = args.store

    def load(self: dict[str, Any]) -> None:
        if store_path is not None and store_path.exists():
            with store_path.open("rb") as f:
                self.update(pickle.load(f))  # noqa: S301 - our own file, written just below

    def dump(self: dict[str, Any]) -> None:
        if store_path is not None:
            tmp = store_path.with_suffix(".tmp")
            with tmp.open("wb") as f:
                pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(store_path)

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    resources.store.try_load_from_disk()
    logging.basicConfig(level=logging.WARNING, format="localstripe: %(name)s %(levelname)s %(message)s")

    def start_front(upstream: str) -> StripeFront:
        front = StripeFront(upstream, host=args.host, port=args.port, state_path=args.front_state)
        for price in args.price:
            front.ensure_price(price, product=args.product_name)
        return front.start()

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((args.host, 0))
        runner = web.AppRunner(app, access_log=None)  # the front logs every request
        await runner.setup()
        await web.SockSite(runner, sock).start()
        upstream = f"http://{args.host}:{sock.getsockname()[1]}"
        print(f"localstripe (internal) on {upstream}", flush=True)
        front = await loop.run_in_executor(None, start_front, upstream)  # blocking calls to localstripe
        prices = f"; prices {', '.join(args.price)}" if args.price else ""
        print(f"stripe listening on {front.url}{prices}", flush=True)
        try:
            await stop.wait()
        finally:
            await loop.run_in_executor(None, front.stop)
            await runner.cleanup()

    asyncio.run(serve())
    return 0


# -- entry point -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="stack.py", description="The Aksio local stack.", formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command_name", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--only", help=f"comma-separated components to start (default all: {','.join(COMPONENTS)})")
        p.add_argument("--free-ports", action="store_true", help="free ports for components whose port var is unset")

    run = sub.add_parser("run", help="start the stack and run until Ctrl-C")
    common(run)
    run.add_argument("--ephemeral", action="store_true", help="keep data in memory, not under .local/data")
    run.set_defaults(func=cmd_run)

    exe = sub.add_parser("exec", help="start the stack, run a command in its environment, stop the stack")
    common(exe)
    exe.add_argument("--persist", action="store_true", help="keep data under .local/data instead of memory")
    exe.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    exe.set_defaults(func=cmd_exec)

    tasks = sub.add_parser("serve-tasks", help="(internal) the Cloud Tasks emulator on one interface")
    tasks.add_argument("--host", default=HOST)
    tasks.add_argument("--port", type=int, default=DEFAULT_PORTS["tasks"])
    tasks.add_argument("--queue", action="append", default=[], help="full queue name to create (repeatable)")
    tasks.add_argument("--max-retries", type=int, default=5, help="retries before a failing task is dropped")
    tasks.add_argument("--target-host", default=HOST, help="host for App Engine tasks (HTTP tasks carry a URL)")
    tasks.add_argument("--target-port", type=int, default=DEFAULT_PORTS["gateway"])
    tasks.add_argument("--dispatch-timeout", type=float, default=600.0, help="seconds one dispatch may take")
    tasks.set_defaults(func=cmd_serve_tasks)

    stripe = sub.add_parser("serve-stripe", help="(internal) localstripe behind local/stripe_front.py")
    stripe.add_argument("--host", default=HOST)
    stripe.add_argument("--port", type=int, default=DEFAULT_PORTS["stripe"], help="the front's port")
    stripe.add_argument("--store", type=Path, help="file keeping localstripe's data (default: memory)")
    stripe.add_argument("--front-state", type=Path, help="file keeping the front's sessions (default: memory)")
    stripe.add_argument("--price", action="append", default=[], help="price id to create if missing (repeatable)")
    stripe.add_argument("--product-name", default="Aksio Pro", help="the product of the prices created")
    stripe.set_defaults(func=cmd_serve_stripe)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return int(args.func(args))
    except StackError as exc:  # bad settings, before anything started
        print(exc.report(), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
