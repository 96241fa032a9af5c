"""The stack as a whole: components started phase by phase, watched, and all stopped together.

:class:`Stack` claims its local directory (``stack.json``; a second stack in the same
directory moves aside or refuses), checks everything it can before starting anything, starts
each phase and waits for it to be ready, and stops everything it started, newest phase first,
on failure, on a signal or at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from .components import build_components
from .errors import Interrupted, StackError
from .settings import COMPONENTS, HOST, LOCAL_BILLING_ENV, PHASES, PROJECT, Settings, port_in_use, port_var
from .supervise import Component

# How a stack's own process shows in its command line: ``python local/stack``, ``python -m
# stack``, ``python local/stack/__main__.py`` (and ``local/stack.py``, the single file this
# package replaced).
_ENTRY_NAMES = {"stack", "stack.py"}


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
            "TASKS_AUTH_SECRET": os.environ.get("TASKS_AUTH_SECRET") or secrets.token_urlsafe(32),
            # Never probe the GCE metadata server from a laptop or CI.
            "NO_GCE_CHECK": "true",
        }
        billing = {**LOCAL_BILLING_ENV, "BILLING_RETURN_ORIGINS": ",".join(settings.web_origins)}
        for key, default in billing.items():
            self.common_env[key] = os.environ.get(key, default)
        # The web app is served by the gateway under both loopback names and given 127.0.0.1 as
        # its API base, so opened at localhost its calls are cross-origin (Settings.web_origins).
        self.common_env["CORS_ORIGINS"] = os.environ.get("CORS_ORIGINS") or ",".join(settings.web_origins)
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
    """Whether ``pid`` is a running stack (a reused pid is not)."""
    try:
        os.kill(pid, 0)
    except (OSError, OverflowError):
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc: trust kill(0)
    paths = [Path(os.fsdecode(arg)) for arg in argv if arg]
    return any(p.name in _ENTRY_NAMES or (p.name == "__main__.py" and p.parent.name == "stack") for p in paths)


def _live_stack_pid(local_dir: Path) -> int | None:
    """The pid of a running stack whose stack.json is in ``local_dir``, if any."""
    try:
        pid = int(json.loads((local_dir / "stack.json").read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return pid if _stack_alive(pid) else None
