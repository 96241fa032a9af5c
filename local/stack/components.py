"""The recipe of each component: its command line, environment, readiness probe and data.

:func:`build_components` turns :class:`~stack.settings.Settings` into configured (not yet
started) :class:`~stack.supervise.Component` objects, in start order. The Tasks emulator and
the Stripe server are this package's own ``serve-tasks`` and ``serve-stripe`` subcommands
(see :mod:`stack.tasks_server` and :mod:`stack.stripe_server`); FCM and the scheduler are
``local/fcm_server.py`` and ``local/scheduler.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import keys
from .probes import http_ready, log_contains, tcp_ready
from .settings import (
    BUCKET,
    CLIENT_VARS,
    COMPONENTS,
    HOST,
    LOCAL,
    PACKAGE,
    PROJECT,
    SCHEDULER_JOBS,
    SCHEDULER_RETRY,
    SCHEDULER_SECRET_HEADER,
    TASKS_LOCATION,
    TASKS_QUEUE,
    TASKS_SERVICE_ACCOUNT,
    Settings,
    free_port,
)
from .supervise import Component

INSTALL_HINT = "run `bash local/install.sh` (or `make install`)"
CERTS_PATH = "/oauth2/v1/certs"  # as Google's (tasks_emulator.oidc)
WEBHOOK_SECRET_VAR = "AKSIO_STRIPE_WEBHOOK_SECRET"  # noqa: S105 - the name of the variable


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
        if s.firestore_indexes is not None:
            argv += ["--indexes", str(s.firestore_indexes)]
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
        key_file, public = keys.upload_signer_paths(s.local_dir / "keys")
        argv = [s.python, str(PACKAGE), "serve-storage", "--host", HOST, "--port", str(port), "--bucket", BUCKET]
        argv += ["--signer", f"{keys.UPLOAD_SIGNER}={public}"]
        for origin in s.web_origins:  # the bucket's CORS origins (terraform: var.allowed_origins)
            argv += ["--cors-origin", origin]
        env = dict(self.base_env)
        if self.persistent:
            env["STORAGE_BASE"] = str(s.data / "storage")  # objects go to <STORAGE_BASE>/.cloudstorage
        else:
            argv.append("--in-memory")
        return Component(
            "storage",
            argv,
            log_contains(self._log("storage"), "storage listening on"),
            self._log("storage"),
            url=f"{s.url('storage')} (V4 signed URLs checked; bucket {BUCKET})",
            client_env={
                "STORAGE_EMULATOR_HOST": s.url("storage"),
                "UPLOAD_BUCKET": BUCKET,
                "STORAGE_SIGNER_KEY_FILE": str(key_file),
            },
            env=env,
            cwd=s.local_dir,
            port=port,
            timeout=s.start_timeout,
            prepare=lambda: keys.upload_signer(s.local_dir / "keys"),
        )

    def tasks(self) -> Component:
        s, port = self.settings, self._port("tasks")
        certs_port = self._port("tasks_certs")
        queue = f"projects/{PROJECT}/locations/{TASKS_LOCATION}/queues/{TASKS_QUEUE}"
        argv = [s.python, "-m", "tasks_emulator", "--host", HOST, "--port", str(port)]
        argv += ["--certs-port", str(certs_port), "--queue", f"{queue},{s.tasks_retry}"]
        pythonpath = os.pathsep.join(p for p in (str(LOCAL), self.base_env.get("PYTHONPATH", "")) if p)
        return Component(
            "tasks",
            argv,
            log_contains(self._log("tasks"), "tasks emulator listening"),
            self._log("tasks"),
            url=f"{HOST}:{port} (gRPC; queue {TASKS_QUEUE}; OIDC certs {s.url('tasks_certs')}{CERTS_PATH})",
            client_env={
                "CLOUD_TASKS_EMULATOR_HOST": f"{HOST}:{port}",
                "TASKS_QUEUE": TASKS_QUEUE,
                "TASKS_LOCATION": TASKS_LOCATION,
                "TASKS_SERVICE_ACCOUNT": TASKS_SERVICE_ACCOUNT,
                "TASKS_OIDC_CERTS_URL": f"{s.url('tasks_certs')}{CERTS_PATH}",
            },
            env={**self.base_env, "PYTHONPATH": pythonpath},
            cwd=s.local_dir,
            port=port,
            timeout=s.start_timeout,
            requires=(
                (Path(s.python), f"the project's Python is missing: {INSTALL_HINT}"),
                (LOCAL / "tasks_emulator" / "__main__.py", "the Cloud Tasks emulator package is absent"),
            ),
        )

    def stripe(self) -> Component:
        s, port = self.settings, self._port("stripe")
        argv = [s.python, str(PACKAGE), "serve-stripe", "--host", HOST, "--port", str(port)]
        if self.client_env.get("STRIPE_PRICE_PRO"):
            argv += ["--price", self.client_env["STRIPE_PRICE_PRO"]]
        if self.persistent:
            argv += ["--store", str(s.data / "stripe.pickle"), "--front-state", str(s.data / "stripe-front.json")]
        # The webhook endpoint, as Stripe's dashboard has it: the gateway's /stripe-webhook, signed with
        # the first STRIPE_WEBHOOK_SECRET, passed in the environment (never argv or the log).
        env = {**self.base_env, WEBHOOK_SECRET_VAR: self.client_env.get("STRIPE_WEBHOOK_SECRET", "").split(",")[0]}
        argv += ["--webhook", f"{s.url('gateway')}/stripe-webhook={WEBHOOK_SECRET_VAR}"]
        return Component(
            "stripe",
            argv,
            log_contains(self._log("stripe"), "stripe listening on"),
            self._log("stripe"),
            url=s.url("stripe"),
            client_env={"STRIPE_API_BASE": s.url("stripe")},
            env=env,
            cwd=s.local_dir,
            port=port,
            timeout=s.start_timeout,
        )

    def fcm(self) -> Component:
        s, port = self.settings, self._port("fcm")
        argv = [s.python, str(LOCAL / "fcm_server.py"), "--host", HOST, "--port", str(port), "--project", PROJECT]
        return Component(
            "fcm",
            argv,
            http_ready(f"{s.url('fcm')}/_test/tokens", need_ok=True),
            self._log("fcm"),
            url=s.url("fcm"),
            client_env={"FCM_API_BASE": s.url("fcm")},
            env=self.base_env,
            cwd=s.local_dir,
            port=port,
            timeout=s.start_timeout,
            requires=((LOCAL / "fcm_server.py", "the FCM server is absent"),),
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

    def scheduler(self) -> Component:
        s, port = self.settings, self._port("scheduler")
        argv = [s.python, str(LOCAL / "scheduler.py"), "--host", HOST, "--port", str(port)]
        for name, every, path in SCHEDULER_JOBS:
            # header_env: the secret is read from the environment, never written in argv or the log.
            auth = f"header_env={SCHEDULER_SECRET_HEADER}:TASKS_AUTH_SECRET"
            argv += ["--job", f"name={name},every={every},url={s.url('gateway')}{path},{auth},{SCHEDULER_RETRY}"]
        if not s.scheduler_clock:
            argv.append("--no-clock")
        jobs = ", ".join(f"{name} every {every} min" for name, every, _ in SCHEDULER_JOBS)
        return Component(
            "scheduler",
            argv,
            http_ready(f"{s.url('scheduler')}/_test/jobs", need_ok=True),
            self._log("scheduler"),
            url=f"{s.url('scheduler')} ({jobs})",
            client_env={"SCHEDULER_URL": s.url("scheduler")},
            env=self.client_env,
            port=port,
            timeout=s.start_timeout,
            requires=((LOCAL / "scheduler.py", "the scheduler is absent"),),
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
