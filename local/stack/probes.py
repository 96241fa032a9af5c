"""Readiness probes: how the stack tells that a component it started is ready for clients.

Each ``*_ready`` function returns a probe, a callable answering ``True`` once the component
is ready; :func:`group_listens` guards them against a port answered by someone else.
"""

from __future__ import annotations

import contextlib
import os
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from .settings import HOST


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
