"""The command line: ``run``, ``exec`` and the internal ``serve-storage`` and ``serve-stripe``.

``run`` and ``exec`` drive a :class:`~stack.orchestrator.Stack` (signals stop it cleanly);
the two ``serve-*`` subcommands are the processes of the storage and stripe components, see
:mod:`stack.storage_server` and :mod:`stack.stripe_server` (imported only when used).
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from .errors import Interrupted, StackError
from .orchestrator import Stack
from .settings import COMPONENTS, CORS_RULE, DEFAULT_PORTS, DEPENDS, HOST, OPENAI_VARS, Settings


def quickstart(stack: Stack) -> str:
    """What ``run`` prints once everything is ready."""
    settings = stack.settings
    lines = ["", "Aksio local stack is running (Ctrl-C stops it)", ""]
    width = max(len(n) for n in stack.components)
    for name, component in stack.components.items():
        lines.append(f"  {name:<{width}}  {component.url}")
    if "gateway" in stack.components:
        lines.append(f"\n  web app: http://localhost:{settings.ports['gateway']}/  (open it in a browser)")
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


def cmd_serve_storage(args: argparse.Namespace) -> int:
    from .storage_server import serve

    return serve(args)


def cmd_serve_stripe(args: argparse.Namespace) -> int:
    from .stripe_server import serve

    return serve(args)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="stack", description="The Aksio local stack.", formatter_class=argparse.RawDescriptionHelpFormatter
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

    storage = sub.add_parser("serve-storage", help="(internal) the storage emulator behind local/storage_front.py")
    storage.add_argument("--host", default=HOST)
    storage.add_argument("--port", type=int, default=DEFAULT_PORTS["storage"], help="the front's port")
    storage.add_argument("--bucket", default="aksio-uploads", help="the bucket created at start")
    storage.add_argument("--in-memory", action="store_true", help="keep objects in memory (else STORAGE_BASE)")
    storage.add_argument("--signer", action="append", default=[], help="EMAIL=PEM whose key checks signed URLs")
    storage.add_argument("--cors-origin", action="append", default=[], help="origin of the bucket's CORS (repeatable)")
    storage.add_argument("--cors-rule", type=Path, default=CORS_RULE, help="the CORS rule (terraform's cors.json)")
    storage.set_defaults(func=cmd_serve_storage)

    stripe = sub.add_parser("serve-stripe", help="(internal) localstripe behind local/stripe_front.py")
    stripe.add_argument("--host", default=HOST)
    stripe.add_argument("--port", type=int, default=DEFAULT_PORTS["stripe"], help="the front's port")
    stripe.add_argument("--store", type=Path, help="file keeping localstripe's data (default: memory)")
    stripe.add_argument("--front-state", type=Path, help="file keeping the front's sessions (default: memory)")
    stripe.add_argument("--price", action="append", default=[], help="price id to create if missing (repeatable)")
    stripe.add_argument("--product-name", default="Aksio Pro", help="the product of the prices created")
    stripe.add_argument("--webhook", action="append", default=[], help="URL=ENV: webhook endpoint, secret in $ENV")
    stripe.set_defaults(func=cmd_serve_stripe)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return int(args.func(args))
    except StackError as exc:  # bad settings, before anything started
        print(exc.report(), file=sys.stderr)
        return 1
