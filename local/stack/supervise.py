"""Process supervision: one component's process, started in its own group, watched and stopped.

A :class:`Component` knows its command line, environment, log and readiness probe; it starts
its process in a new session (terminal signals don't reach it; on Linux it also gets SIGTERM
if the stack dies without stopping it), and stops it by signalling the whole group: SIGTERM,
then SIGKILL for whatever is left after the grace period.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import StackError
from .probes import group_listens
from .settings import ROOT


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


def tail(path: Path, lines: int = 25) -> str:
    """The last ``lines`` lines of a log ("" if it cannot be read)."""
    try:
        content = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(content.rstrip().splitlines()[-lines:])


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
