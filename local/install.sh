#!/usr/bin/env bash
# Installs what the local stack needs besides .venv (which `make install` makes first):
#   - local/node_modules: firebase-tools for the Auth emulator, exactly as package-lock.json says;
#   - .local/venvs/tasks: the Cloud Tasks emulator in its own virtualenv (it pins protobuf<5).
# Idempotent: each part is redone only when it is missing or its lock/requirements changed
# (a stamp holding their checksum records what was installed). Reaches only the npm registry
# and PyPI. Environment: PYTHON (default python3.11, else python3) makes the tasks virtualenv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/local"
TASKS_VENV="$ROOT/.local/venvs/tasks"
TASKS_REQUIREMENTS="$LOCAL/requirements-tasks.txt"

say() { printf 'install.sh: %s\n' "$*"; }
checksum() { cat "$@" | sha256sum | cut -d' ' -f1; }

# -- node: firebase-tools ----------------------------------------------------------------------
node_stamp="$LOCAL/node_modules/.aksio-installed"
node_sum="$(checksum "$LOCAL/package.json" "$LOCAL/package-lock.json")"
if [[ -x "$LOCAL/node_modules/.bin/firebase" && -f "$node_stamp" && "$(cat "$node_stamp")" == "$node_sum" ]]; then
  say "local/node_modules is up to date"
else
  command -v npm >/dev/null || { say "npm not found: install Node.js 20"; exit 1; }
  say "installing firebase-tools into local/node_modules (npm ci)"
  # --ignore-scripts: no package needs its install script for the Auth emulator, and re2's
  # (an optional dependency of the hosting emulator) would try to download a prebuilt binary
  # from outside the npm registry, then compile for minutes.
  (cd "$LOCAL" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  printf '%s\n' "$node_sum" >"$node_stamp"
fi

# -- python: the Cloud Tasks emulator's own virtualenv -------------------------------------------
tasks_stamp="$TASKS_VENV/.aksio-installed"
tasks_sum="$(checksum "$TASKS_REQUIREMENTS")"
if [[ -x "$TASKS_VENV/bin/python" && -f "$tasks_stamp" && "$(cat "$tasks_stamp")" == "$tasks_sum" ]]; then
  say ".local/venvs/tasks is up to date"
else
  python="${PYTHON:-}"
  if [[ -z "$python" ]]; then
    if command -v python3.11 >/dev/null; then python=python3.11; else python=python3; fi
  fi
  say "installing gcloud-tasks-emulator into .local/venvs/tasks"
  rm -rf "$TASKS_VENV"
  "$python" -m venv "$TASKS_VENV"
  "$TASKS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$TASKS_REQUIREMENTS"
  "$TASKS_VENV/bin/python" -W ignore::FutureWarning -c "import gcloud_tasks_emulator.server, google.cloud.tasks_v2"
  printf '%s\n' "$tasks_sum" >"$tasks_stamp"
fi
