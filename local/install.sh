#!/usr/bin/env bash
# Installs what the local stack needs besides .venv (which `make install` makes first):
#   - local/node_modules: firebase-tools for the Auth emulator, exactly as package-lock.json says.
# Every other peer runs with .venv's Python (the Cloud Tasks emulator is local/tasks_emulator).
# Idempotent: redone only when it is missing or its lock changed (a stamp holding their
# checksum records what was installed). Reaches only the npm registry.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/local"

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
