"""Cold import time of each function's bundle, beside the floor every function pays.

Each figure is a fresh interpreter importing the bundle's ``main`` (functions-framework,
the aksio modules it names at the top level, the function's own module), measured inside
the process so interpreter start-up is excluded. Modules imported lazily on a request
path (e.g. the Firestore client) are not counted here: they load on the first request.

The floor is ``import functions_framework, google.cloud.firestore, firebase_admin.auth``:
what a function that reads Firestore and verifies tokens cannot avoid.

Run: ``make bench`` (or ``.venv/bin/python bench/cold_import.py [-n RUNS]``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "local"))
import package  # noqa: E402

TIMER = """
import sys, time
sys.path = [p for p in sys.path if not (p == '' or p.startswith({lib!r}))]
sys.path.insert(0, '.')
t = time.perf_counter()
{statement}
print((time.perf_counter() - t) * 1000)
"""
FLOOR = "import functions_framework, google.cloud.firestore, firebase_admin.auth"


def measure(statement: str, cwd: Path, runs: int) -> list[float]:
    code = TIMER.format(lib=str(ROOT / "lib"), statement=statement)
    env = {"PATH": "/usr/bin:/bin", "GOOGLE_CLOUD_PROJECT": "demo-aksio", "NO_GCE_CHECK": "true"}
    out = []
    for _ in range(runs + 1):  # the first run warms the .pyc cache and the page cache; dropped
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
        )
        out.append(float(result.stdout.strip()))
    return out[1:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", "--runs", type=int, default=7)
    args = parser.parse_args()
    rows: list[tuple[str, list[float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        rows.append(("floor: " + FLOOR.removeprefix("import "), measure(FLOOR, out, args.runs)))
        rows.append(("functions_framework alone", measure("import functions_framework", out, args.runs)))
        for name in package.functions():
            bundle = package.build(name, out)
            rows.append((f"function {name}", measure("import main", bundle, args.runs)))
    print(f"cold import, {args.runs} fresh interpreters each (ms)")
    print(f"{'what':<72} {'min':>8} {'median':>8}")
    for label, samples in rows:
        print(f"{label:<72} {min(samples):8.1f} {statistics.median(samples):8.1f}")
    print(json.dumps({label: round(statistics.median(s), 1) for label, s in rows}))


if __name__ == "__main__":
    main()
