#!/usr/bin/env bash
# `make conformance`: Google's own Firestore system suite (google-cloud-firestore 2.34.1, from its PyPI sdist)
# run against our emulator (local/firestore_emulator). The suite lives in a temporary directory only.
# Prints, last, "conformance: P passed, F failed, S skipped" and exits non-zero if a test failed.
# Extra arguments go to pytest (e.g. `bash local/conformance.sh -k watch`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PY:-$ROOT/.venv/bin/python}"
VERSION="2.34.1"
WORK="$(mktemp -d -t firestore-conformance.XXXXXX)"
EMULATOR_PID=""

cleanup() {
  if [[ -n "$EMULATOR_PID" ]]; then
    kill "$EMULATOR_PID" 2>/dev/null || true
    wait "$EMULATOR_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! "$PY" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
  "google-cloud-firestore==$VERSION" -d "$WORK" >"$WORK/pip.log" 2>&1; then
  cat "$WORK/pip.log"
  exit 1
fi
tar -xzf "$WORK"/google_cloud_firestore-"$VERSION".tar.gz -C "$WORK"
SUITE="$WORK/google_cloud_firestore-$VERSION/tests/system"

PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
PYTHONPATH="$ROOT/local" "$PY" -m firestore_emulator --host 127.0.0.1 --port "$PORT" >"$WORK/emulator.log" 2>&1 &
EMULATOR_PID=$!
for _ in $(seq 1 100); do
  grep -q "listening on" "$WORK/emulator.log" 2>/dev/null && break
  kill -0 "$EMULATOR_PID" 2>/dev/null || { cat "$WORK/emulator.log"; exit 1; }
  sleep 0.1
done

# Counts outcomes per test (subtests, which pytest-subtests also reports, are not tests of their own).
cat >"$WORK/conformance_count.py" <<'PLUGIN'
import json
import os

COUNTS = {"passed": 0, "failed": 0, "skipped": 0}
FAILED = set()
SKIPPED = set()


def pytest_runtest_logreport(report):
    """One outcome per test, decided at its teardown: failed if any phase or subtest failed, else skipped or passed."""
    if report.failed:
        FAILED.add(report.nodeid)
    elif report.skipped and type(report).__name__ != "SubTestReport":
        SKIPPED.add(report.nodeid)
    if report.when == "teardown" and type(report).__name__ != "SubTestReport":
        if report.nodeid in FAILED:
            COUNTS["failed"] += 1
        elif report.nodeid in SKIPPED:
            COUNTS["skipped"] += 1
        else:
            COUNTS["passed"] += 1


def pytest_sessionfinish(session):
    with open(os.environ["CONFORMANCE_COUNTS"], "w") as out:
        json.dump(COUNTS, out)
PLUGIN

# The suite switches to emulator mode when FIRESTORE_EMULATOR_HOST is set (test__helpers.FIRESTORE_EMULATOR);
# it then uses anonymous credentials and GCLOUD_PROJECT as the project.
set +e
(
  cd "$SUITE"
  FIRESTORE_EMULATOR_HOST="127.0.0.1:$PORT" GCLOUD_PROJECT="demo-test" \
    PYTHONPATH="$WORK" CONFORMANCE_COUNTS="$WORK/counts.json" \
    "$PY" -m pytest test_system.py -p no:cacheprovider -p conformance_count -o addopts="" -o timeout=120 \
    --rootdir="$SUITE" -q -rfE "$@" 2>&1 | tee "$WORK/pytest.log"
)
set -e

if grep -q "Traceback\|ERROR" "$WORK/emulator.log"; then
  echo "--- emulator log (errors) ---"
  grep -B2 -A20 "Traceback\|ERROR" "$WORK/emulator.log" | head -200
fi

if [[ ! -s "$WORK/counts.json" ]]; then
  echo "conformance: the suite did not run"
  exit 1
fi
"$PY" - "$WORK/counts.json" <<'SUMMARY'
import json
import sys

counts = json.load(open(sys.argv[1]))
print(f"conformance: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
sys.exit(1 if counts["failed"] else 0)
SUMMARY
