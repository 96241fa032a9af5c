"""Cold start as a user feels it: process start to the first authenticated answer.

For each HTTP function (``functions/functions.json``, trigger ``http``) the deployable
bundle is built with ``local/package.py``; each run is a fresh interpreter (cwd = the
bundle, the repo's ``lib/`` off ``sys.path``, an environment of the stack's
``*_EMULATOR_HOST`` variables, ``GOOGLE_CLOUD_PROJECT`` and ``NO_GCE_CHECK`` only) that
imports ``main``, builds a GET request for the function's cheapest authenticated read
(``flask.Request`` from werkzeug's ``EnvironBuilder``, a real Auth-emulator ID token),
calls the entry point, checks the answer is 200 and prints a line. The figure is wall
time in this process from just before ``Popen`` to reading that line: interpreter
start-up, imports, client set-up and the round trips to the emulators all count.

The floor is the same harness around a ``main.py`` that only imports functions-framework,
``google.cloud.firestore`` and ``firebase_admin.auth``, initialises firebase_admin,
verifies the token (``auth.verify_id_token``) and reads ``users/{uid}``: what any
function that checks a token and reads a document cannot avoid. Ratio = median / floor
median; the goal is ≤ 1.1 for every light function.

Targets are interleaved in each round (floor, f1, f2, ..., floor, f1, ...) so load drifts
hit all alike; the first round warms the page cache and the ``.pyc`` files and is
dropped. The columns ``import`` and ``request`` are measured inside the child (``import
main``; building the request and the first call, lazy imports included); the rest of
``median`` is interpreter start-up and ``site``. A deck, a card and a review are created
through the stack's gateway first (the code the stack serves, whatever ``--repo`` is) so
every read has something to answer (review-card reads the stored review). The AI
functions' list routes (chat-reply, generate-flashcards) are a second table; the Stripe
functions and create-upload have no authenticated GET and are not measured. ``--why``
adds, per function, the modules it imports that the floor does not (``-X importtime``:
their self time, by aksio module or by package; median of 3 runs).

Run under the stack:
``.venv/bin/python local/stack exec --free-ports -- .venv/bin/python bench/cold_start.py [-n RUNS] [--why]``;
``--repo PATH`` measures another checkout's ``lib/``, ``functions/`` and
``local/package.py`` the same way (e.g. a ``git worktree`` of an older commit).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
from _stack import need, sign_up  # noqa: E402

# The cheapest authenticated read of each function (path relative to the function).
LIGHT = {
    "health": "/",  # public: the token is sent and ignored
    "account": "/",
    "decks": "/",
    "cards": "/",
    "review-card": "/{review}",
    "study-queue": "/",
    "stats": "/",
    "documents": "/",
}
AI = {"chat-reply": "/", "generate-flashcards": "/"}
# No authenticated GET (and Stripe behind them): not measured.
SKIPPED = ("create-checkout-session", "create-portal-session", "stripe-webhook", "create-upload")

MARK = "@@cold-start"
CHILD = """
import sys, time
t0 = time.perf_counter()
sys.path = [p for p in sys.path if p and not p.startswith({libs!r})]
sys.path.insert(0, '.')
import main
t1 = time.perf_counter()
import flask
from werkzeug.test import EnvironBuilder
entry, path, token = sys.argv[1:4]
environ = EnvironBuilder(path=path, method='GET', headers={{'Authorization': 'Bearer ' + token}}).get_environ()
response = getattr(main, entry)(flask.Request(environ))
t2 = time.perf_counter()
aksio = sys.modules.get('aksio')
where = getattr(aksio, '__file__', None) or '-'
print({mark!r}, response.status_code, (t1 - t0) * 1000, (t2 - t1) * 1000, where, flush=True)
"""
FLOOR_MAIN = '''"""floor: verify the ID token, read one document; nothing else."""

import json
import os

import firebase_admin
import functions_framework
from firebase_admin import auth
from google.cloud import firestore
from werkzeug.wrappers import Response


@functions_framework.http
def floor(request):
    app = firebase_admin.initialize_app(options={"projectId": os.environ["GOOGLE_CLOUD_PROJECT"]})
    token = request.headers["Authorization"].removeprefix("Bearer ")
    claims = auth.verify_id_token(token, app=app)
    snapshot = firestore.Client().collection("users").document(claims["uid"]).get()
    return Response(json.dumps({"exists": snapshot.exists}), mimetype="application/json")
'''


@dataclass
class Target:
    name: str
    bundle: Path
    entry: str
    path: str
    total: list[float] = field(default_factory=list)
    imports: list[float] = field(default_factory=list)
    request: list[float] = field(default_factory=list)


def load_package(repo: Path) -> ModuleType:
    """``local/package.py`` of ``repo`` (its ROOT is its own checkout)."""
    spec = importlib.util.spec_from_file_location(f"package_{uuid.uuid4().hex}", repo / "local" / "package.py")
    if spec is None or spec.loader is None:
        sys.exit(f"{repo}/local/package.py not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "build", None)):
        sys.exit(f"{repo}/local/package.py has no build(name, out): cannot bundle that checkout")
    return module


def http_functions(repo: Path) -> list[str]:
    manifest = json.loads((repo / "functions" / "functions.json").read_text())
    return [name for name, spec in manifest.items() if spec.get("trigger") == "http"]


def seed(gateway: str, headers: dict[str, str]) -> str:
    """A deck, a card and one review of the user (through the gateway); the review's id."""
    session = requests.Session()

    def post(path: str, body: dict[str, Any], status: int) -> Any:
        r = session.post(f"{gateway}{path}", json=body, headers=headers, timeout=30)
        if r.status_code != status:
            sys.exit(f"seeding: POST {path} answered {r.status_code} {r.text[:300]}")
        return r.json()

    deck = post("/decks", {"name": "cold start"}, 201)["id"]
    card = post("/cards", {"deckId": deck, "front": "front", "back": "back"}, 201)["cards"][0]["id"]
    review = uuid.uuid4().hex
    post("/review-card", {"cardId": card, "rating": 3, "reviewId": review}, 200)
    return review


def child_env() -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "GOOGLE_CLOUD_PROJECT": need("GOOGLE_CLOUD_PROJECT"), "NO_GCE_CHECK": "true"}
    env.update({k: v for k, v in os.environ.items() if k.endswith("_EMULATOR_HOST")})
    return env


def run_child(
    target: Target, code: str, token: str, env: dict[str, str], flags: tuple[str, ...] = ()
) -> tuple[float, float, float, str]:
    """One fresh interpreter: (wall ms to the answer, import ms, request ms, stderr)."""
    argv = [sys.executable, *flags, "-c", code, target.entry, target.path, token]
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=target.bundle, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        watchdog = threading.Timer(120, proc.kill)
        watchdog.start()
        try:
            lines = []
            for line in proc.stdout or ():
                if line.startswith(MARK):
                    wall = (time.perf_counter() - started) * 1000
                    break
                lines.append(line)
            else:
                wall = None
            proc.communicate()
        finally:
            watchdog.cancel()
        err.seek(0)
        stderr = err.read()
    if wall is None:
        output = "".join(lines)[-2000:] + stderr[-3000:]
        raise RuntimeError(f"{target.name}: no answer (exit {proc.returncode})\n{output}")
    _, status, import_ms, request_ms, where = line.split()
    if status != "200":
        raise RuntimeError(f"{target.name}: GET {target.path} answered {status}\n{''.join(lines)[-2000:]}")
    if where != "-" and not (target.bundle / where).resolve().is_relative_to(target.bundle.resolve()):
        raise RuntimeError(f"{target.name}: aksio was imported from {where}, not from the bundle")
    return wall, float(import_ms), float(request_ms), stderr


def import_times(stderr: str) -> dict[str, int]:
    """Self time (us) of each module in a ``-X importtime`` report."""
    out: dict[str, int] = {}
    for line in stderr.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            self_us, _, name = line.removeprefix("import time:").split("|")
            out[name.strip()] = int(self_us)
    return out


def group_of(module: str) -> str:
    """Where an import's time is charged: each aksio module on its own (its self time is
    mostly its class bodies, pydantic models included), other packages by their top level
    (werkzeug and google by their sub-package)."""
    parts = module.split(".")
    if parts[0] in ("aksio", "main"):
        return module
    if parts[0] in ("werkzeug", "flask"):
        return ".".join(parts[:2])
    if parts[0] == "google":
        return ".".join(parts[:3])
    return parts[0]


def extra_imports(times: dict[str, int], floor: set[str]) -> dict[str, float]:
    """Self time (ms) of the modules the floor does not import, by :func:`group_of`."""
    out: dict[str, float] = {}
    for name, self_us in times.items():
        if name not in floor:
            key = group_of(name)
            out[key] = out.get(key, 0.0) + self_us / 1000
    return out


def why(targets: list[Target], code: str, token: str, env: dict[str, str], top: int = 10) -> dict[str, Any]:
    """Per function: its imports beyond the floor's (median of 3 ``-X importtime`` runs)."""
    floor, functions = targets[0], targets[1:]
    floor_names: set[str] = set()
    for _ in range(3):
        floor_names |= set(import_times(run_child(floor, code, token, env, ("-X", "importtime"))[3]))
    report: dict[str, Any] = {}
    print(f"\nimports beyond the floor's (self ms by module, or by package outside aksio; top {top})")
    for target in functions:
        runs = [
            extra_imports(import_times(run_child(target, code, token, env, ("-X", "importtime"))[3]), floor_names)
            for _ in range(3)
        ]
        keys = set().union(*runs)
        grouped = {k: statistics.median(r.get(k, 0.0) for r in runs) for k in keys}
        total = statistics.median(sum(r.values()) for r in runs)
        ranked = sorted(grouped.items(), key=lambda kv: -kv[1])[:top]
        print(f"{target.name}: {total:.1f} ms in {len(keys)} groups")
        for name, ms in ranked:
            print(f"    {ms:7.1f}  {name}")
        report[target.name] = {"total_ms": round(total, 1), "top": {k: round(v, 1) for k, v in ranked}}
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", "--runs", type=int, default=7)
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout whose lib/, functions/ are measured")
    parser.add_argument("--why", action="store_true", help="also list each function's imports beyond the floor's")
    args = parser.parse_args()
    repo = args.repo.resolve()
    auth_host = need("FIREBASE_AUTH_EMULATOR_HOST")
    need("FIRESTORE_EMULATOR_HOST")
    gateway = need("GATEWAY_URL")
    package = load_package(repo)
    _, headers = sign_up(auth_host)
    token = headers["Authorization"].removeprefix("Bearer ")
    review = seed(gateway, headers)
    env = child_env()
    # The venv's .pth puts this checkout's lib/ on sys.path: it goes, as does --repo's.
    libs = tuple(sorted({str(ROOT / "lib"), str(repo / "lib")}))
    code = CHILD.format(libs=libs, mark=MARK)
    available = http_functions(repo)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        (out / "floor").mkdir()
        (out / "floor" / "main.py").write_text(FLOOR_MAIN)
        targets = [Target("floor", out / "floor", "floor", "/")]
        for name, path in [*LIGHT.items(), *AI.items()]:
            if name in available:
                bundle = package.build(name, out)
                targets.append(Target(name, bundle, name.replace("-", "_"), path.format(review=review)))
        for round_ in range(args.runs + 1):  # round 0 warms the page cache and the .pyc files
            for target in targets:
                wall, import_ms, request_ms, _ = run_child(target, code, token, env)
                if round_:
                    target.total.append(wall)
                    target.imports.append(import_ms)
                    target.request.append(request_ms)

        floor = statistics.median(targets[0].total)
        print(f"cold start to the first authenticated answer, {args.runs} fresh interpreters each (ms)")
        print(f"repo {repo}; {FLOOR_MAIN.splitlines()[0].strip(chr(34))}")
        result: dict[str, Any] = {"repo": str(repo), "runs": args.runs}
        for title, group in (("light functions (goal: ratio <= 1.10)", LIGHT), ("AI functions (list route)", AI)):
            rows = [t for t in targets if t.name == "floor" or t.name in group]
            print(f"\n{title}")
            print(f"{'target':<22} {'median':>8} {'min':>8} {'ratio':>6} {'import':>8} {'request':>8}")
            for t in rows:
                median = statistics.median(t.total)
                print(
                    f"{t.name:<22} {median:8.1f} {min(t.total):8.1f} {median / floor:6.2f} "
                    f"{statistics.median(t.imports):8.1f} {statistics.median(t.request):8.1f}"
                )
                result[t.name] = {
                    "median_ms": round(median, 1),
                    "min_ms": round(min(t.total), 1),
                    "ratio": round(median / floor, 3),
                }
        missing = [n for n in [*LIGHT, *AI] if n not in available]
        if missing:
            print(f"\nnot in {repo}/functions/functions.json: {', '.join(missing)}")
        print(f"not measured (no authenticated GET): {', '.join(SKIPPED)}")
        if args.why:
            result["why"] = why(targets, code, token, env)
        print(json.dumps(result))


if __name__ == "__main__":
    main()
